package dev.upcycle.model.moe;

import dev.upcycle.model.RouterConfig;
import java.util.Arrays;
import java.util.Comparator;

/**
 * Plain-Java routing, written from DESIGN.md §5 with loops, to check the graph routers against.
 * Shapes: logits [G][S][E]; results [G][E][C]. A dropless top-K router has capacity S: every
 * choice of every token gets a slot (checked here), in the same priority order.
 */
final class RoutingReference {

  final int[][][] token;
  final double[][][] combine;
  final boolean[][][] filled;
  double aux;
  double zLoss;
  double dropped;
  final double[] expertFraction;
  final int cap;

  RoutingReference(double[][][] logits, RouterConfig config) {
    int groups = logits.length;
    int s = logits[0].length;
    int experts = logits[0][0].length;
    cap = config.capacity(s, experts);
    token = new int[groups][experts][cap];
    combine = new double[groups][experts][cap];
    filled = new boolean[groups][experts][cap];
    expertFraction = new double[experts];
    double auxSum = 0;
    double zSum = 0;
    long droppedCount = 0;
    for (int g = 0; g < groups; g++) {
      double[][] p = new double[s][];
      for (int i = 0; i < s; i++) {
        p[i] = softmax(logits[g][i]);
        double lse = logSumExp(logits[g][i]);
        zSum += lse * lse;
      }
      if (config.type() == dev.upcycle.model.RouterType.EXPERT_CHOICE) {
        boolean[] taken = new boolean[s];
        for (int e = 0; e < experts; e++) {
          final int ee = e;
          final double[][] pp = p;
          Integer[] ord = sequence(s);
          Arrays.sort(ord, Comparator.<Integer>comparingDouble(i -> -pp[i][ee]).thenComparingInt(i -> i));
          for (int c = 0; c < cap; c++) {
            token[g][e][c] = ord[c];
            combine[g][e][c] = p[ord[c]][e];
            filled[g][e][c] = true;
            taken[ord[c]] = true;
          }
        }
        for (boolean t : taken) {
          droppedCount += t ? 0 : 1;
        }
      } else {
        int k = config.k();
        int[][] choice = new int[s][];
        for (int i = 0; i < s; i++) {
          final double[] pi = p[i];
          Integer[] ord = sequence(experts);
          Arrays.sort(ord, Comparator.<Integer>comparingDouble(e -> -pi[e]).thenComparingInt(e -> e));
          choice[i] = new int[k];
          for (int j = 0; j < k; j++) {
            choice[i][j] = ord[j];
          }
        }
        Integer[] order = sequence(s);
        if (config.batchPrioritized()) {
          final double[][] pp = p;
          Arrays.sort(order, Comparator.<Integer>comparingDouble(i -> -max(pp[i])).thenComparingInt(i -> i));
        }
        int[] count = new int[experts];
        for (int j = 0; j < k; j++) {
          for (int i : order) {
            int e = choice[i][j];
            if (count[e] < cap) {
              token[g][e][count[e]] = i;
              combine[g][e][count[e]] = p[i][e];
              filled[g][e][count[e]] = true;
              count[e]++;
            } else if (config.dropless()) {
              throw new AssertionError("dropless routing dropped token " + i + "'s choice of expert " + e);
            } else {
              droppedCount++;
            }
          }
        }
        // load balance
        for (int e = 0; e < experts; e++) {
          double f = 0;
          double pm = 0;
          for (int i = 0; i < s; i++) {
            for (int j = 0; j < k; j++) {
              if (choice[i][j] == e) {
                f += 1;
              }
            }
            pm += p[i][e];
          }
          auxSum += (f / s) * (pm / s);
        }
      }
      if (config.renormalize()) {
        double[] sum = new double[s];
        for (int e = 0; e < experts; e++) {
          for (int c = 0; c < cap; c++) {
            if (filled[g][e][c]) {
              sum[token[g][e][c]] += combine[g][e][c];
            }
          }
        }
        for (int e = 0; e < experts; e++) {
          for (int c = 0; c < cap; c++) {
            if (filled[g][e][c]) {
              combine[g][e][c] /= sum[token[g][e][c]];
            }
          }
        }
      }
    }
    long filledTotal = 0;
    for (int g = 0; g < groups; g++) {
      for (int e = 0; e < experts; e++) {
        for (int c = 0; c < cap; c++) {
          if (filled[g][e][c]) {
            expertFraction[e]++;
            filledTotal++;
          }
        }
      }
    }
    for (int e = 0; e < experts; e++) {
      expertFraction[e] /= Math.max(1, filledTotal);
    }
    zLoss = zSum / (groups * s);
    if (config.type() == dev.upcycle.model.RouterType.EXPERT_CHOICE) {
      aux = 0;
      dropped = (double) droppedCount / (groups * s);
    } else {
      aux = auxSum / (groups * experts) * experts * experts;
      dropped = (double) droppedCount / ((long) groups * s * config.k());
    }
  }

  private static Integer[] sequence(int n) {
    Integer[] out = new Integer[n];
    for (int i = 0; i < n; i++) {
      out[i] = i;
    }
    return out;
  }

  static double max(double[] v) {
    double m = Double.NEGATIVE_INFINITY;
    for (double x : v) {
      m = Math.max(m, x);
    }
    return m;
  }

  static double logSumExp(double[] v) {
    double m = max(v);
    double s = 0;
    for (double x : v) {
      s += Math.exp(x - m);
    }
    return m + Math.log(s);
  }

  static double[] softmax(double[] v) {
    double lse = logSumExp(v);
    double[] out = new double[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = Math.exp(v[i] - lse);
    }
    return out;
  }

}
