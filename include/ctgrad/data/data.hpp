#pragma once
/// \file Everything of ctgrad::data: IDX and table readers, whitening, DataLoader, data-set helpers.
#include <ctgrad/data/data_loader.hpp>
#include <ctgrad/data/datasets.hpp>
#include <ctgrad/data/error.hpp>
#include <ctgrad/data/idx.hpp>
#include <ctgrad/data/images.hpp>
#include <ctgrad/data/normalize.hpp>
#include <ctgrad/data/table.hpp>
