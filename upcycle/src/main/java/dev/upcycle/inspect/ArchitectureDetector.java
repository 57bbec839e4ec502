package dev.upcycle.inspect;

import static com.google.common.base.Preconditions.checkNotNull;

import dev.upcycle.ckpt.TensorInfo;
import dev.upcycle.model.names.CanonicalNames;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Recognises the architecture of a checkpoint from canonical names and shapes only (DESIGN.md §3):
 * <ul>
 *   <li>T5 v1.1: {@code encoder/layers_i} and {@code decoder/layers_i} stacks and
 *       {@code token_embedder/embedding} [vocab, d]; heads from {@code <stack>/relpos_bias/rel_embedding}
 *       [heads, buckets], heads·d_kv from a query kernel [d, heads·d_kv];
 *   <li>ViT: {@code embedding/kernel} [patch, patch, channels, d], {@code pos_embedding}
 *       [1, tokens, d], {@code head/kernel} [d, classes];
 *   <li>decoder-only LM: a {@code decoder} stack, a token embedding and no encoder stack.
 * </ul>
 * d_ff comes from {@code mlp/wi_0/kernel} or {@code mlp/wi/kernel} [d, d_ff] (or an expert's
 * [E, d, d_ff]); a layer with {@code mlp/expert/...} is MoE with E = that tensor's axis 0.
 */
public final class ArchitectureDetector {

  private static final Pattern LAYER = Pattern.compile("(encoder|decoder)/layers_(\\d+)/(.*)");
  private static final Pattern WI = Pattern.compile(
      CanonicalNames.MLP + "/(" + CanonicalNames.EXPERT + "/)?(wi_0|wi)/kernel");
  private static final Pattern QUERY = Pattern.compile("(attention|self_attention)/query/kernel");

  private ArchitectureDetector() {}

  public static Architecture detect(List<TensorInfo> tensors) {
    checkNotNull(tensors, "tensors");
    Map<String, TensorInfo> byName = new HashMap<>();
    tensors.forEach(t -> byName.put(t.name(), t));
    Map<String, Integer> layers = new TreeMap<>();
    Map<String, SortedMap<Integer, Integer>> moe = new TreeMap<>();
    int dFf = 0;
    int inner = 0;
    for (TensorInfo t : tensors) {
      Matcher m = LAYER.matcher(t.name());
      if (!m.matches()) {
        continue;
      }
      String stack = m.group(1);
      int layer = Integer.parseInt(m.group(2));
      layers.merge(stack, layer + 1, Math::max);
      long[] s = t.shape();
      Matcher wi = WI.matcher(m.group(3));
      if (wi.matches()) {
        boolean expert = wi.group(1) != null;
        if (expert && s.length == 3) {
          moe.computeIfAbsent(stack, k -> new TreeMap<>()).put(layer, (int) s[0]);
          dFf = dFf == 0 ? (int) s[2] : dFf;
        } else if (!expert && s.length == 2) {
          dFf = (int) s[1]; // dense width wins
        }
      }
      if (inner == 0 && QUERY.matcher(m.group(3)).matches() && s.length == 2) {
        inner = (int) s[1];
      }
    }
    int enc = layers.getOrDefault("encoder", 0);
    int dec = layers.getOrDefault("decoder", 0);
    int heads = 0;
    for (String stack : new String[] {"encoder", "decoder"}) {
      TensorInfo rel = byName.get(stack + "/relpos_bias/rel_embedding");
      if (heads == 0 && rel != null && rel.rank() == 2) {
        heads = (int) rel.shape()[0];
      }
    }
    TensorInfo emb = byName.get("token_embedder/embedding");
    TensorInfo patchKernel = byName.get("embedding/kernel");
    TensorInfo pos = byName.get("pos_embedding");
    TensorInfo head = byName.get("head/kernel");
    if (patchKernel != null && patchKernel.rank() == 4 && pos != null && head != null && head.rank() == 2) {
      long[] k = patchKernel.shape();
      int d = (int) k[3];
      long tokens = pos.shape()[pos.rank() - 2];
      long patches = byName.containsKey("cls") ? tokens - 1 : tokens;
      int side = (int) Math.round(Math.sqrt(patches)) * (int) k[0];
      return new Architecture(Architecture.Kind.VIT, d, dFf, 0, inner, enc, 0, 0, (int) k[0], side, (int) k[2],
          (int) head.shape()[1], moe);
    }
    if (emb != null && emb.rank() == 2 && dec > 0) {
      Architecture.Kind kind = enc > 0 ? Architecture.Kind.T5_V1_1 : Architecture.Kind.DECODER_LM;
      return new Architecture(kind, (int) emb.shape()[1], dFf, heads, inner, enc, dec, (int) emb.shape()[0], 0, 0, 0,
          0, moe);
    }
    return new Architecture(Architecture.Kind.UNKNOWN, 0, dFf, heads, inner, enc, dec, 0, 0, 0, 0, 0, moe);
  }
}
