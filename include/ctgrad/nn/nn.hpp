#pragma once
/// \file All of ctgrad::nn: layers, Sequential, losses, initialisers, the d2l models.
#include <ctgrad/nn/activation.hpp>
#include <ctgrad/nn/avgpool2d.hpp>
#include <ctgrad/nn/conv2d.hpp>
#include <ctgrad/nn/dropout.hpp>
#include <ctgrad/nn/flatten.hpp>
#include <ctgrad/nn/init.hpp>
#include <ctgrad/nn/layer.hpp>
#include <ctgrad/nn/linear.hpp>
#include <ctgrad/nn/loss.hpp>
#include <ctgrad/nn/maxpool2d.hpp>
#include <ctgrad/nn/models.hpp>
#include <ctgrad/nn/residual.hpp>
#include <ctgrad/nn/sequential.hpp>
