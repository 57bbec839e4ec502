package dev.upcycle.tools.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.tools.progress.Progress;
import dev.upcycle.tools.progress.ProgressConsole;
import dev.upcycle.train.metrics.ProgressPrinter;
import dev.upcycle.train.metrics.StepMetrics;
import dev.upcycle.train.metrics.TrainListener;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** On a terminal the training bar and the step lines never share a screen line. */
class TrainBarTest {

  /** What a terminal shows for {@code text}: {@code \r} returns to column 0 and overwrites, {@code \n} ends a line. */
  static List<String> screen(String text) {
    List<String> lines = new ArrayList<>();
    StringBuilder line = new StringBuilder();
    int col = 0;
    for (char c : text.toCharArray()) {
      if (c == '\n') {
        lines.add(line.toString().stripTrailing());
        line.setLength(0);
        col = 0;
      } else if (c == '\r') {
        col = 0;
      } else {
        if (col < line.length()) {
          line.setCharAt(col, c);
        } else {
          line.append(c);
        }
        col++;
      }
    }
    lines.add(line.toString().stripTrailing());
    return lines;
  }

  @Test
  void stepLinesAreClearedOfTheBarAndTheBarIsRedrawnAfterThem() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream terminal = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    ProgressConsole console = new ProgressConsole(terminal, Progress.Mode.BAR);
    try (TrainCommand.BarListener bar = new TrainCommand.BarListener(console)) {
      TrainListener listener = new ProgressPrinter(console.lines(), 2).andThen(bar);
      listener.onStart(0, 4);
      for (long s = 1; s <= 4; s++) {
        listener.onStep(new StepMetrics(s, 2.5, 2.4, 0, 0, 0, 1e-3, 0.5, 1000, List.of()));
      }
      listener.onCheckpoint(4, Path.of("run/checkpoints/step_000004"));
    }
    List<String> shown = screen(bytes.toString(StandardCharsets.UTF_8));
    for (String l : shown) {
      if (l.contains("step ")) {
        assertTrue(l.startsWith("step ") || l.startsWith("checkpoint step") || l.startsWith("training from"),
            "a log line shares its screen line with the bar: '" + l + "'\n" + shown);
      }
    }
    assertEquals(List.of("training from step 0 to 4", "step 2/4", "step 4/4", "checkpoint step 4"),
        shown.stream().filter(l -> !l.startsWith("train ")).filter(l -> !l.isEmpty())
            .map(l -> l.startsWith("step ") ? l.substring(0, l.indexOf(" loss")) : l)
            .map(l -> l.startsWith("checkpoint") ? l.substring(0, l.indexOf(" ->")) : l).toList(), shown.toString());
    assertTrue(shown.get(shown.size() - 2).startsWith("train [########################] 100.0%  4/4 steps"),
        "the bar is redrawn after the last line and completed: " + shown);
  }

  @Test
  void withoutABarLinesGoStraightThrough() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    ProgressConsole console = new ProgressConsole(new PrintStream(bytes, true, StandardCharsets.UTF_8),
        Progress.Mode.LOG);
    console.lines().println("eval step 3 loss 1.0");
    console.lines().print("partial ");
    console.lines().println("line");
    assertEquals("eval step 3 loss 1.0\npartial line\n", bytes.toString(StandardCharsets.UTF_8));
  }
}
