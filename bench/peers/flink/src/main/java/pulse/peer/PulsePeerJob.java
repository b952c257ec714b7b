// SPDX-License-Identifier: MIT
// The Flink peer of Pulse's benchmark harness: the same three event-time queries Pulse's
// bench/run.py runs, as a DataStream job in a local mini-cluster (bench/peers/flink/README.md).
//
//   java ... pulse.peer.PulsePeerJob QUERY INPUT.jsonl OUTPUT_DIR WORKERS [OUT_OF_ORDERNESS_MS]
package pulse.peer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.time.Duration;
import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.AggregateFunction;
import org.apache.flink.api.common.functions.FlatMapFunction;
import org.apache.flink.api.java.tuple.Tuple3;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.file.src.FileSource;
import org.apache.flink.connector.file.src.reader.TextLineInputFormat;
import org.apache.flink.core.fs.Path;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.KeyedStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.windowing.ProcessWindowFunction;
import org.apache.flink.streaming.api.windowing.assigners.EventTimeSessionWindows;
import org.apache.flink.streaming.api.windowing.assigners.SlidingEventTimeWindows;
import org.apache.flink.streaming.api.windowing.assigners.TumblingEventTimeWindows;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.util.Collector;

public final class PulsePeerJob {
  /** (event time ms, key, value). */
  private static final class Parse
      implements FlatMapFunction<String, Tuple3<Long, String, Long>> {
    private transient ObjectMapper mapper;

    @Override
    public void flatMap(String line, Collector<Tuple3<Long, String, Long>> out) {
      if (mapper == null) mapper = new ObjectMapper();
      try {
        JsonNode node = mapper.readTree(line);
        JsonNode ts = node.get("event_time");
        JsonNode key = node.get("key");
        if (ts == null || !ts.canConvertToLong() || key == null) return;  // a bad record
        JsonNode value = node.get("value");
        out.collect(Tuple3.of(ts.asLong(), key.asText(),
                              value == null ? 0L : value.asLong()));
      } catch (IOException e) {
        // Not JSON: skipped, as Pulse counts and skips it.
      }
    }
  }

  private static final class Count
      implements AggregateFunction<Tuple3<Long, String, Long>, long[], Long> {
    @Override public long[] createAccumulator() { return new long[1]; }
    @Override public long[] add(Tuple3<Long, String, Long> r, long[] acc) { acc[0]++; return acc; }
    @Override public Long getResult(long[] acc) { return acc[0]; }
    @Override public long[] merge(long[] a, long[] b) { a[0] += b[0]; return a; }
  }

  private static final class Avg
      implements AggregateFunction<Tuple3<Long, String, Long>, long[], Double> {
    @Override public long[] createAccumulator() { return new long[2]; }
    @Override public long[] add(Tuple3<Long, String, Long> r, long[] acc) {
      acc[0] += r.f2;
      acc[1]++;
      return acc;
    }
    @Override public Double getResult(long[] acc) { return (double) acc[0] / acc[1]; }
    @Override public long[] merge(long[] a, long[] b) {
      a[0] += b[0];
      a[1] += b[1];
      return a;
    }
  }

  /** One JSON line per (window, key), shaped as Pulse's results. */
  private static final class Format<T> extends ProcessWindowFunction<T, String, String, TimeWindow> {
    private final String field;

    Format(String field) { this.field = field; }

    @Override
    public void process(String key, Context ctx, Iterable<T> results, Collector<String> out) {
      T result = results.iterator().next();
      out.collect("{\"window_start_ms\":" + ctx.window().getStart() + ",\"window_end_ms\":"
                  + ctx.window().getEnd() + ",\"key\":\"" + key + "\",\"" + field + "\":"
                  + result + "}");
    }
  }

  /** Writes each subtask's lines to OUTPUT_DIR/part-N.jsonl. */
  private static final class LineSink implements Sink<String> {
    private final String dir;

    LineSink(String dir) { this.dir = dir; }

    @Override
    public SinkWriter<String> createWriter(WriterInitContext context) throws IOException {
      final int subtask = context.getTaskInfo().getIndexOfThisSubtask();
      final BufferedWriter writer = Files.newBufferedWriter(
          Paths.get(dir, "part-" + subtask + ".jsonl"), StandardCharsets.UTF_8);
      return new SinkWriter<String>() {
        @Override public void write(String line, Context ctx) throws IOException {
          writer.write(line);
          writer.write('\n');
        }
        @Override public void flush(boolean endOfInput) throws IOException { writer.flush(); }
        @Override public void close() throws IOException { writer.close(); }
      };
    }
  }

  public static void main(String[] args) throws Exception {
    if (args.length < 4) {
      System.err.println("usage: PulsePeerJob QUERY INPUT OUTPUT_DIR WORKERS [OUT_OF_ORDERNESS_MS]");
      System.exit(2);
    }
    final String query = args[0];
    final String input = args[1];
    final String outDir = args[2];
    final int workers = Integer.parseInt(args[3]);
    final long bound = args.length > 4 ? Long.parseLong(args[4]) : 1000;

    Configuration conf = new Configuration();
    StreamExecutionEnvironment env =
        StreamExecutionEnvironment.createLocalEnvironment(workers, conf);
    env.setRuntimeMode(RuntimeExecutionMode.STREAMING);

    // One file is one split: read it on one subtask, then spread the lines over the workers,
    // which parse them and generate watermarks (records stay in order within each worker).
    FileSource<String> source =
        FileSource.forRecordStreamFormat(new TextLineInputFormat(), new Path(input)).build();
    DataStream<Tuple3<Long, String, Long>> events =
        env.fromSource(source, WatermarkStrategy.noWatermarks(), "jsonl")
            .setParallelism(1)
            .rebalance()
            .flatMap(new Parse())
            .assignTimestampsAndWatermarks(
                WatermarkStrategy.<Tuple3<Long, String, Long>>forBoundedOutOfOrderness(
                        Duration.ofMillis(bound))
                    .withTimestampAssigner((r, previous) -> r.f0));
    KeyedStream<Tuple3<Long, String, Long>, String> keyed = events.keyBy(r -> r.f1);
    DataStream<String> results;
    switch (query) {
      case "tumbling_count":
        results = keyed.window(TumblingEventTimeWindows.of(Duration.ofSeconds(60)))
                      .aggregate(new Count(), new Format<Long>("count"));
        break;
      case "sliding_avg":
        results = keyed.window(SlidingEventTimeWindows.of(Duration.ofSeconds(60),
                                                          Duration.ofSeconds(15)))
                      .aggregate(new Avg(), new Format<Double>("avg"));
        break;
      case "session_count":
        results = keyed.window(EventTimeSessionWindows.withGap(Duration.ofSeconds(5)))
                      .aggregate(new Count(), new Format<Long>("count"));
        break;
      default:
        System.err.println("unknown query " + query
                           + " (tumbling_count, sliding_avg, session_count)");
        System.exit(2);
        return;
    }
    results.sinkTo(new LineSink(outDir));
    final long start = System.nanoTime();
    env.execute("pulse-peer-" + query);
    System.err.printf("flink job %s: %.2f s%n", query, (System.nanoTime() - start) / 1e9);
  }
}
