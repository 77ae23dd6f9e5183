// The anomaly messages (ctgrad/expr/anomaly.hpp), compiled once: before, each node type that a
// check could name carried its own copy of the string building.
#include <ctgrad/expr/anomaly.hpp>

#include <span>

#include <ctgrad/expr/shape.hpp>

namespace ctgrad::detail {

namespace {
/// Where an adjoint arriving now came from.
std::string arriving_from() {
    if (current_backward) return " (computed by the backward pass of " + current_backward->describe(current_backward->node) + ")";
    return " (the upstream gradient of backward())";
}
std::string text(NamedNode n) { return n.text(n.node); }
}  // namespace

std::string element_string(std::size_t flat, const std::size_t* dims, std::size_t rank) {
    if (rank == 0) return "[] (a scalar)";
    std::string idx;
    for (std::size_t d = rank; d-- > 0;) {
        const std::size_t e = dims[d] ? dims[d] : 1;
        idx = std::to_string(flat % e) + (idx.empty() ? "" : ", ") + idx;
        flat /= e;
    }
    return "[" + idx + "] of " + shape_string(std::span<const std::size_t>(dims, rank));
}

void throw_value_anomaly(NamedNode n, double v, const std::string& where, const std::string& operands,
                         bool param_leaf) {
    throw AnomalyError("anomaly detected in the forward pass: " + text(n) + " is " + number_string(v) +
                       " at element " + where + operands +
                       (param_leaf ? " (a Param: look at the last optimizer step, e.g. its learning rate, or at the "
                                     "initial value)"
                                   : ""));
}

void throw_arriving_anomaly(NamedNode n, double g, const std::string& where) {
    throw AnomalyError("anomaly detected in the backward pass: the adjoint arriving at " + text(n) + " is " +
                       number_string(g) + " at element " + where + arriving_from());
}

void throw_adjoint_anomaly(NamedNode n, NamedNode operand, double adjoint, double value, double g,
                           const std::string& where) {
    throw AnomalyError("anomaly detected in the backward pass: the derivative of " + text(n) + " gives " +
                       number_string(adjoint) + " as the adjoint of its operand " + text(operand) + " at element " +
                       where + " (operand value " + number_string(value) + ", adjoint arriving " + number_string(g) +
                       ")");
}

void throw_written_gradient_anomaly(NamedNode by, NamedNode leaf, double g, const std::string& where) {
    throw AnomalyError("anomaly detected in the backward pass: the backward pass of " + text(by) +
                       " made the gradient of " + text(leaf) + " " + number_string(g) + " at element " + where);
}

std::string operand_values_text(double operand) { return " (its operand is " + number_string(operand) + " there)"; }

std::string operand_values_text(double lhs, double rhs) {
    return " (its operands are " + number_string(lhs) + " and " + number_string(rhs) + " there)";
}

}  // namespace ctgrad::detail
