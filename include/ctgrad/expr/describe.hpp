#pragma once
/// \file describe(node): an expression as readable text, such as
/// `log(1 - sigmoid(matmul(Tensor[4x3], Param[3x1])))`, for messages (anomaly detection names
/// the node that produced a NaN this way). The graph is a type, so each node prints itself from
/// its op's name and its operands.
///
/// Optional node members (a node without them still prints, as its type's name):
///   std::string describe() const;   The node as text, using ctgrad::describe() on its operands.
///   int precedence() const;         For infix nodes (a + b): 1 for + and -, 2 for * and /; an
///                                   operand binding less tightly is put in parentheses.
/// An op policy or boundary op names itself with `static constexpr const char* name` (or a static
/// function name() returning a string); an infix operator's name is "operator" + its symbol.
#include <concepts>
#include <cstdio>
#include <cstdlib>
#include <cxxabi.h>
#include <memory>
#include <string>
#include <typeinfo>

namespace ctgrad {

namespace detail {
/// The unqualified name of T without its template arguments ("ctgrad::ops::Exp" -> "Exp").
template <class T>
std::string short_type_name() {
    int status = 0;
    const std::unique_ptr<char, void (*)(void*)> d(abi::__cxa_demangle(typeid(T).name(), nullptr, nullptr, &status),
                                                   std::free);
    std::string s = status == 0 && d ? d.get() : typeid(T).name();
    if (const auto lt = s.find('<'); lt != std::string::npos) s.erase(lt);
    if (const auto colon = s.rfind("::"); colon != std::string::npos) s.erase(0, colon + 2);
    return s;
}
}  // namespace detail

/// The readable name of an op policy or a boundary op: its `name` if it has one (a string, or a
/// static function returning one), else its type's unqualified name.
template <class Op>
std::string op_name() {
    if constexpr (requires { std::string(Op::name()); }) return Op::name();
    else if constexpr (requires { std::string(Op::name); }) return Op::name;
    else return detail::short_type_name<Op>();
}

/// The node `n` as readable text: its describe() if it has one, else its type's name.
template <class N>
std::string describe(const N& n) {
    if constexpr (requires { { n.describe() } -> std::convertible_to<std::string>; }) return n.describe();
    else return detail::short_type_name<N>();
}

namespace detail {
/// How tightly node n binds as an infix operand (atoms and calls: tightest).
template <class N>
int precedence(const N& n) {
    if constexpr (requires { { n.precedence() } -> std::convertible_to<int>; }) return n.precedence();
    else return 100;
}
/// "name(a, b, ...)" from the operands' descriptions.
template <class... E>
std::string describe_call(const std::string& name, const E&... e) {
    std::string s = name + "(";
    bool first = true;
    ((s += (first ? "" : ", ") + describe(e), first = false), ...);
    return s + ")";
}
/// Operand e of an infix operator of precedence `outer`, parenthesised when it binds less
/// tightly (or equally, on the right of a non-associative - or /).
template <class E>
std::string infix_operand(const E& e, int outer, bool right_of_non_associative) {
    const int p = precedence(e);
    const std::string s = describe(e);
    return p < outer || (p == outer && right_of_non_associative) ? "(" + s + ")" : s;
}
/// "3x4" for a shape (empty for rank 0), as the leaves print themselves ("Param[3x4]").
template <class S>
std::string dims_string(const S& s) {
    std::string r;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (i) r += 'x';  // not `"x" + to_string(...)`, on which GCC 12 reports a false -Wrestrict
        r += std::to_string(s[i]);
    }
    return r;
}
/// A number as it reads in an expression ("1", "0.5", "1e-08").
inline std::string number_string(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}
}  // namespace detail

}  // namespace ctgrad
