package dev.upcycle.train.optim;

/**
 * Plain-Java reference updates on flat arrays, written from the formulas in the optimizers' docs,
 * for shapes viewed as {@code [batch, rows, cols]} (rank ≥ 2: batch = product of leading axes;
 * rank 1: [1, 1, n]; rank 0: [1, 1, 1]).
 */
final class OptimizerReference {

  private OptimizerReference() {}

  /** Adafactor state of one parameter. */
  static final class AdafactorState {
    double[] v;
    double[] vRow;
    double[] vCol;
    double[] m;
  }

  static int[] view(long[] shape) {
    if (shape.length == 0) {
      return new int[] {1, 1, 1};
    }
    if (shape.length == 1) {
      return new int[] {1, 1, (int) shape[0]};
    }
    int b = 1;
    for (int i = 0; i < shape.length - 2; i++) {
      b *= (int) shape[i];
    }
    return new int[] {b, (int) shape[shape.length - 2], (int) shape[shape.length - 1]};
  }

  /**
   * One Adafactor update in place. {@code factored}: rows (axis -2) and cols (axis -1); the larger
   * (cols on a tie) is d0; v_row is indexed by the d1 axis, v_col by the d0 axis.
   */
  static void adafactor(Adafactor o, long[] shape, double[] p, double[] g, AdafactorState st, double lr, long t) {
    int[] vw = view(shape);
    int nb = vw[0];
    int rows = vw[1];
    int cols = vw[2];
    int per = rows * cols;
    double decay = 1 - Math.pow(t, -o.decayExponent());
    boolean fact = o.factored() && shape.length >= 2 && Math.min(rows, cols) >= o.minDimSizeToFactor();
    boolean d0IsCols = cols >= rows;
    double[] u = new double[p.length];
    if (fact) {
      int nR = d0IsCols ? rows : cols; // v_row length per batch: the d1 axis
      int nC = d0IsCols ? cols : rows; // v_col length per batch: the d0 axis
      if (st.vRow == null) {
        st.vRow = new double[nb * nR];
        st.vCol = new double[nb * nC];
      }
      for (int b = 0; b < nb; b++) {
        double[] meanOverD0 = new double[nR];
        double[] meanOverD1 = new double[nC];
        for (int r = 0; r < rows; r++) {
          for (int c = 0; c < cols; c++) {
            double gi = g[b * per + r * cols + c];
            double sq = gi * gi + o.eps1();
            int i1 = d0IsCols ? r : c;
            int i0 = d0IsCols ? c : r;
            meanOverD0[i1] += sq / (d0IsCols ? cols : rows);
            meanOverD1[i0] += sq / (d0IsCols ? rows : cols);
          }
        }
        double rowMean = 0;
        for (int i = 0; i < nR; i++) {
          st.vRow[b * nR + i] = decay * st.vRow[b * nR + i] + (1 - decay) * meanOverD0[i];
          rowMean += st.vRow[b * nR + i] / nR;
        }
        for (int i = 0; i < nC; i++) {
          st.vCol[b * nC + i] = decay * st.vCol[b * nC + i] + (1 - decay) * meanOverD1[i];
        }
        for (int r = 0; r < rows; r++) {
          for (int c = 0; c < cols; c++) {
            int i1 = d0IsCols ? r : c;
            int i0 = d0IsCols ? c : r;
            int k = b * per + r * cols + c;
            u[k] = g[k] / Math.sqrt(st.vRow[b * nR + i1] / rowMean) / Math.sqrt(st.vCol[b * nC + i0]);
          }
        }
      }
    } else {
      if (st.v == null) {
        st.v = new double[p.length];
      }
      for (int k = 0; k < p.length; k++) {
        st.v[k] = decay * st.v[k] + (1 - decay) * (g[k] * g[k] + o.eps1());
        u[k] = g[k] / Math.sqrt(st.v[k]);
      }
    }
    // clipping and parameter scale per batch element for rank >= 3, over everything otherwise
    int groups = shape.length >= 3 ? nb : 1;
    int size = p.length / groups;
    double[] sub = new double[p.length];
    for (int b = 0; b < groups; b++) {
      double su = 0;
      double sp = 0;
      for (int k = b * size; k < (b + 1) * size; k++) {
        su += u[k] * u[k];
        sp += p[k] * p[k];
      }
      double denom = o.clipThreshold() > 0 ? Math.max(1, Math.sqrt(su / size) / o.clipThreshold()) : 1;
      double rate = o.multiplyByParameterScale() ? lr * Math.max(o.eps2(), Math.sqrt(sp / size)) : lr;
      for (int k = b * size; k < (b + 1) * size; k++) {
        sub[k] = rate * u[k] / denom;
      }
    }
    if (o.beta1() > 0) {
      if (st.m == null) {
        st.m = new double[p.length];
      }
      for (int k = 0; k < p.length; k++) {
        st.m[k] = o.beta1() * st.m[k] + (1 - o.beta1()) * sub[k];
        sub[k] = st.m[k];
      }
    }
    for (int k = 0; k < p.length; k++) {
      p[k] -= sub[k];
    }
  }

  /** One AdamW update in place; m and v are the slots. */
  static void adamw(AdamW o, double[] p, double[] g, double[] m, double[] v, double lr, long t) {
    for (int k = 0; k < p.length; k++) {
      m[k] = o.beta1() * m[k] + (1 - o.beta1()) * g[k];
      v[k] = o.beta2() * v[k] + (1 - o.beta2()) * g[k] * g[k];
      double mHat = m[k] / (1 - Math.pow(o.beta1(), t));
      double vHat = v[k] / (1 - Math.pow(o.beta2(), t));
      p[k] -= lr * (mHat / (Math.sqrt(vHat) + o.eps()) + o.weightDecay() * p[k]);
    }
  }
}
