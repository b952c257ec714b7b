// SPDX-License-Identifier: MIT
// Word count: split each record's "text" into lower-cased words and count every word per minute.
// Usage: pulse_wordcount [INPUT.jsonl [OUTPUT.jsonl]]  (default: the bundled sample, to stdout)

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "pulse/pulse.h"

namespace {

constexpr pulse::DurationMs kWindowMs = 60'000;

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

char ToLowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// One {"word": w} value per whitespace-separated word of the "text" field, lower-cased.
// Records without a string "text" produce nothing.
std::vector<pulse::Value> SplitWords(const pulse::Value& value) {
  std::vector<pulse::Value> words;
  const pulse::Value* text = value.Find("text");
  if (text == nullptr || !text->is_string()) return words;
  std::string word;
  auto flush = [&] {
    if (word.empty()) return;
    words.emplace_back(pulse::Object{{"word", pulse::Value(std::move(word))}});
    word.clear();
  };
  for (char c : text->as_string()) {
    if (IsSpace(c)) {
      flush();
    } else {
      word.push_back(ToLowerAscii(c));
    }
  }
  flush();
  return words;
}

}  // namespace

int main(int argc, char** argv) {
  pulse::io::FileSourceOptions source;
  source.path = argc > 1 ? argv[1] : "examples/data/wordcount.jsonl";
  source.time_field = "event_time";
  pulse::io::FileSinkOptions sink;
  if (argc > 2) sink.path = argv[2];

  pulse::ops::WindowOptions window;
  window.window = pulse::ops::WindowSpec::Tumbling(kWindowMs);
  window.agg = pulse::ops::AggSpec::Count();

  pulse::Pipeline pipeline;
  pipeline.From(pulse::io::FileSource(std::move(source)))
      .Apply(pulse::ops::FlatMap(SplitWords))
      .KeyBy("word")
      .Apply(pulse::ops::WindowedAggregate(std::move(window)))
      .To(pulse::io::FileSink(std::move(sink)));

  pulse::Result<pulse::RunProgress> run = pulse::Run(std::move(pipeline));
  if (!run.ok()) {
    std::fprintf(stderr, "pulse_wordcount: %s\n", run.status().ToString().c_str());
    return 1;
  }
  std::fprintf(stderr, "pulse_wordcount: %llu records read, %llu results written\n",
               static_cast<unsigned long long>(run->records_read),
               static_cast<unsigned long long>(run->results_written));
  return 0;
}
