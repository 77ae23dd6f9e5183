#pragma once
/// \file Everything of ctgrad::train: command line, exit statuses, run_main, progress, epoch loop,
/// metrics.csv, summary.json, plots, checkpoints and the run folder. Needs the CLI11 and nlohmann_json headers.
#include <ctgrad/train/checkpoint.hpp>
#include <ctgrad/train/cli.hpp>
#include <ctgrad/train/epoch.hpp>
#include <ctgrad/train/errors.hpp>
#include <ctgrad/train/exit_codes.hpp>
#include <ctgrad/train/interrupt.hpp>
#include <ctgrad/train/metrics.hpp>
#include <ctgrad/train/output_dir.hpp>
#include <ctgrad/train/persist_options.hpp>
#include <ctgrad/train/plot.hpp>
#include <ctgrad/train/progress.hpp>
#include <ctgrad/train/run_dir.hpp>
#include <ctgrad/train/run_main.hpp>
#include <ctgrad/train/summary.hpp>
#include <ctgrad/train/timer.hpp>
