package dev.upcycle.train.experiment;

import static com.google.common.base.Preconditions.checkArgument;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.ToDoubleFunction;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CombinedDomainXYPlot;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.DeviationRenderer;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import org.jfree.data.xy.YIntervalSeries;
import org.jfree.data.xy.YIntervalSeriesCollection;

/**
 * PNG plots of an experiment (JFreeChart, headless): a metric against extra training compute as a
 * fraction of the dense budget, one line per branch (the mean over seeds) with a band from the
 * lowest to the highest seed — the form of the paper's Figs. 2 and 4 — and the per-expert load of
 * an upcycled run over training, one panel per MoE layer.
 */
public final class ResultsPlots {

  private static final int WIDTH = 960;
  private static final int HEIGHT = 620;
  private static final Color[] PALETTE = {new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c),
      new Color(0xff7f0e), new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f),
      new Color(0xbcbd22), new Color(0x17becf)};

  static {
    System.setProperty("java.awt.headless", "true");
  }

  private ResultsPlots() {}

  /**
   * Plots {@code metric} of every branch against extra compute into {@code file}.
   *
   * @param title chart title
   * @param metricName the y axis label
   * @param metric the value of a point
   */
  public static void metricVsCompute(List<EvalPoint> points, String title, String metricName,
      ToDoubleFunction<EvalPoint> metric, Path file) throws IOException {
    checkArgument(!points.isEmpty(), "nothing to plot for %s", file);
    // branch -> step -> values over seeds (x: the extra compute, the same for every seed at one step)
    Map<String, TreeMap<Long, List<EvalPoint>>> byBranch = new LinkedHashMap<>();
    for (EvalPoint p : points) {
      byBranch.computeIfAbsent(p.branch(), k -> new TreeMap<>()).computeIfAbsent(p.step(), k -> new ArrayList<>())
          .add(p);
    }
    YIntervalSeriesCollection data = new YIntervalSeriesCollection();
    for (Map.Entry<String, TreeMap<Long, List<EvalPoint>>> b : byBranch.entrySet()) {
      YIntervalSeries series = new YIntervalSeries(b.getKey());
      for (List<EvalPoint> atStep : b.getValue().values()) {
        List<Double> ys = atStep.stream().map(metric::applyAsDouble).toList();
        SeedStats s = SeedStats.of(ys);
        series.add(atStep.get(0).extraCompute(), s.mean(), s.min(), s.max());
      }
      data.addSeries(series);
    }
    DeviationRenderer renderer = new DeviationRenderer(true, true);
    for (int i = 0; i < data.getSeriesCount(); i++) {
      Color c = PALETTE[i % PALETTE.length];
      renderer.setSeriesPaint(i, c);
      renderer.setSeriesFillPaint(i, c);
      renderer.setSeriesStroke(i, new BasicStroke(2f));
    }
    renderer.setAlpha(0.18f);
    NumberAxis x = new NumberAxis("extra training compute (fraction of the dense budget; dense curve below 0)");
    NumberAxis y = new NumberAxis(metricName);
    y.setAutoRangeIncludesZero(false);
    XYPlot plot = new XYPlot(data, x, y, renderer);
    plot.setBackgroundPaint(Color.WHITE);
    plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
    plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
    save(new JFreeChart(title, JFreeChart.DEFAULT_TITLE_FONT, plot, true), file);
  }

  /** Each MoE layer's per-expert share of routed slots over training, and its unprocessed-token fraction. */
  public static void expertLoad(ExpertLoad load, String title, Path file) throws IOException {
    checkArgument(!load.layers().isEmpty(), "no MoE layer metrics to plot for %s", file);
    NumberAxis steps = new NumberAxis("step");
    steps.setAutoRangeIncludesZero(false);
    CombinedDomainXYPlot combined = new CombinedDomainXYPlot(steps);
    XYPlot first = null;
    for (Map.Entry<String, ExpertLoad.Series> layer : load.layers().entrySet()) {
      ExpertLoad.Series s = layer.getValue();
      XYSeriesCollection data = new XYSeriesCollection();
      int experts = s.fractions().length == 0 ? 0 : s.fractions()[0].length;
      for (int e = 0; e < experts; e++) {
        XYSeries series = new XYSeries("expert " + e);
        for (int i = 0; i < s.steps().length; i++) {
          series.add(s.steps()[i], s.fractions()[i][e]);
        }
        data.addSeries(series);
      }
      XYSeries dropped = new XYSeries("tokens no expert processed");
      for (int i = 0; i < s.steps().length; i++) {
        if (!Double.isNaN(s.dropped()[i])) {
          dropped.add(s.steps()[i], s.dropped()[i]);
        }
      }
      data.addSeries(dropped);
      XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(true, false);
      for (int i = 0; i < data.getSeriesCount(); i++) {
        r.setSeriesPaint(i, i == experts ? Color.BLACK : PALETTE[i % PALETTE.length]);
        r.setSeriesStroke(i, new BasicStroke(i == experts ? 2f : 1.2f));
      }
      NumberAxis y = new NumberAxis(layer.getKey());
      y.setAutoRangeIncludesZero(true);
      XYPlot plot = new XYPlot(data, null, y, r);
      plot.setBackgroundPaint(Color.WHITE);
      plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
      combined.add(plot);
      first = first == null ? plot : first;
    }
    // one legend (every panel has the same series), from the first panel
    JFreeChart chart = new JFreeChart(title, JFreeChart.DEFAULT_TITLE_FONT, combined, false);
    org.jfree.chart.title.LegendTitle legend = new org.jfree.chart.title.LegendTitle(first);
    legend.setPosition(org.jfree.chart.ui.RectangleEdge.BOTTOM);
    chart.addSubtitle(legend);
    save(chart, file, WIDTH, Math.max(HEIGHT, 300 * load.layers().size()));
  }

  private static void save(JFreeChart chart, Path file) throws IOException {
    save(chart, file, WIDTH, HEIGHT);
  }

  private static void save(JFreeChart chart, Path file, int width, int height) throws IOException {
    chart.setBackgroundPaint(Color.WHITE);
    Files.createDirectories(file.toAbsolutePath().getParent());
    Path tmp = file.resolveSibling(file.getFileName() + ".partial");
    try {
      ChartUtils.saveChartAsPNG(tmp.toFile(), chart, width, height);
    } catch (VirtualMachineError e) {
      throw e;
    } catch (RuntimeException | Error e) {
      // a headless JDK without fontconfig or any font fails in Java2D's font setup
      Files.deleteIfExists(tmp);
      throw new IOException("could not draw " + file + ": Java2D found no usable font (" + e
          + "); install fontconfig and a font, e.g. `apt-get install fontconfig fonts-dejavu-core`", e);
    }
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }
}
