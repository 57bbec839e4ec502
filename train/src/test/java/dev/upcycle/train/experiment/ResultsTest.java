package dev.upcycle.train.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Seed statistics, the CSV, the summary's tables, the expert-load reader and the PNG plots. */
class ResultsTest {

  @TempDir Path tmp;

  private static EvalPoint point(String branch, BranchKind kind, long seed, double budget, long step, double acc) {
    return new EvalPoint(branch, kind, seed, budget, step, step - 100, 1e9 * step, budget, 2.5, 0.6, 0.5, acc);
  }

  private static final List<EvalPoint> POINTS = List.of(
      point("dense", BranchKind.DENSE, 0, 0.0, 100, 0.80), point("dense", BranchKind.DENSE, 1, 0.0, 100, 0.82),
      point("continuation", BranchKind.CONTINUATION, 0, 0.5, 150, 0.81),
      point("continuation", BranchKind.CONTINUATION, 1, 0.5, 150, 0.83),
      point("upcycled-x", BranchKind.UPCYCLED, 0, 0.5, 140, 0.84),
      point("upcycled-x", BranchKind.UPCYCLED, 1, 0.5, 140, 0.88));

  @Test
  void seedStatsUseTheSampleStd() {
    SeedStats s = SeedStats.of(List.of(1.0, 2.0, 3.0, 4.0));
    assertEquals(2.5, s.mean(), 1e-12);
    assertEquals(Math.sqrt(5.0 / 3), s.std(), 1e-12);
    assertEquals(1.0, s.min());
    assertEquals(4.0, s.max());
    assertEquals(0.0, SeedStats.of(List.of(7.0)).std());
  }

  @Test
  void csvAndSummary() throws Exception {
    Path csv = tmp.resolve("r.csv");
    ResultsCsv.write(POINTS, csv);
    List<String> lines = Files.readAllLines(csv);
    assertEquals(String.join(",", ResultsCsv.COLUMNS), lines.get(0));
    assertEquals(7, lines.size());
    assertEquals("upcycled-x,upcycled,1,0.5000,140,40,1.400000e+11,0.500000,2.500,0.600000,0.500000,0.880000",
        lines.get(6));
    ExperimentPlan plan = new ExperimentPlan(100, List.of(0.5), List.of(0L, 1L), List.of(1.0), 3);
    String md = ResultsSummary.markdown(List.of("# t"), BranchPlannerTest.VIT, plan, POINTS);
    // mean ± sample std of 84 and 88 (%): 86.00 ± 2.83
    assertTrue(md.contains("| upcycled-x | 86.00 ± 2.83 |"), md);
    assertTrue(md.contains("| continuation | 82.00 ± 1.41 |"), md);
    assertTrue(md.contains("| 1.00 | 100 | 81.00 ± 1.41 |"), md);
    assertTrue(md.contains("Mean ± sample std over seeds."), md);
  }

  /** With one seed a cell is the value alone: a sample std of one value is undefined, not ± 0. */
  @Test
  void oneSeedHasNoSpread() {
    List<EvalPoint> seed0 = POINTS.stream().filter(p -> p.seed() == 0).toList();
    ExperimentPlan plan = new ExperimentPlan(100, List.of(0.5), List.of(0L), List.of(1.0), 3);
    String md = ResultsSummary.markdown(List.of("# t"), BranchPlannerTest.VIT, plan, seed0);
    assertTrue(md.contains("| upcycled-x | 84.00 |"), md);
    assertTrue(md.contains("| 1.00 | 100 | 80.00 |"), md);
    assertTrue(md.contains("One seed: values without a spread."), md);
    assertTrue(!md.contains("±"), md);
  }

  @Test
  void expertLoadReadsTheMetricsFile() throws Exception {
    Path run = tmp.resolve("run");
    Files.createDirectories(run);
    Files.writeString(run.resolve("metrics.jsonl"), String.join("\n",
        "{\"step\":1,\"loss\":1.0,\"moe/encoder/layers_3/mlp/expert_fraction\":[0.75,0.25],"
            + "\"moe/encoder/layers_3/mlp/dropped_fraction\":0.1}",
        "{\"step\":2,\"loss\":1.0,\"moe/encoder/layers_3/mlp/expert_fraction\":[0.5,0.5],"
            + "\"moe/encoder/layers_3/mlp/dropped_fraction\":0.0}", ""), StandardCharsets.UTF_8);
    ExpertLoad load = ExpertLoad.read(run, 1);
    ExpertLoad.Series s = load.layers().get("encoder/layers_3/mlp");
    assertEquals(List.of("encoder/layers_3/mlp"), List.copyOf(load.layers().keySet()));
    assertEquals(2, s.steps().length);
    assertEquals(0.25, s.fractions()[0][1]);
    assertEquals(0.1, s.dropped()[0]);
    assertEquals(1, ExpertLoad.read(run, 2).layers().get("encoder/layers_3/mlp").steps().length);

    Path png = tmp.resolve("plots/load.png");
    ResultsPlots.expertLoad(load, "load", png);
    BufferedImage img = ImageIO.read(png.toFile());
    assertEquals(960, img.getWidth());
  }

  @Test
  void metricPlotIsAPng() throws Exception {
    Path png = tmp.resolve("acc.png");
    ResultsPlots.metricVsCompute(POINTS, "t", "accuracy", EvalPoint::accuracy, png);
    BufferedImage img = ImageIO.read(png.toFile());
    assertEquals(960, img.getWidth());
    assertEquals(620, img.getHeight());
    assertTrue(Files.notExists(tmp.resolve("acc.png.partial")));
  }
}
