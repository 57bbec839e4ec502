package dev.upcycle.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.upcycle.ckpt.CheckpointReader;
import dev.upcycle.ckpt.DType;
import dev.upcycle.ckpt.RawTensor;
import dev.upcycle.ckpt.tf.TfBundleReader;
import dev.upcycle.model.RouterType;
import dev.upcycle.model.T5Config;
import dev.upcycle.model.names.CanonicalNames;
import dev.upcycle.plan.GranularScaling.Routing;
import dev.upcycle.provenance.Provenance;
import dev.upcycle.synthetic.SyntheticCheckpoint;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code convert} with megatron scaling and a virtual-groups router on a T5 checkpoint: the routers
 * the flags leave out come from the spec convert records for the source (Expert Choice C = 2 in
 * the encoder, top-2 in the decoder), each stack's experts get its own factor, and provenance.json
 * records the rule, both routers and the virtual groups beside the other options.
 */
class GranularConvertTest {

  private static final T5Config T5 = new T5Config(16, 32, 2, 8, 2, 2, 64, 8, 20, 0.0);
  private static final int E = 8;
  private static final int G = 2;

  @TempDir Path tmp;

  @Test
  void megatronRoutersComeFromTheSourcesRecipeUnlessGivenAndProvenanceRecordsThem() throws Exception {
    Path from = tmp.resolve("dense");
    SyntheticCheckpoint.writeT5(from.resolve("model.ckpt-3"), T5, DType.FLOAT32, SyntheticCheckpoint.Slots.NONE, 3, 5);
    Path to = tmp.resolve("moe");
    Routing decoder = new Routing(RouterType.TOP_K, 1, false);
    UpcycleOptions options = UpcycleOptions.defaults(E).withGranularity(G).withRouterVirtualGroups(true)
        .withGranularScaling(new GranularScaling(GranularScaling.Method.MEGATRON, Optional.empty(), Optional.of(decoder)))
        .withSeed(4);
    ConvertResult result = ConvertJob.run(from, to, options, Optional.empty(), false, false, ProgressListener.NONE);
    assertTrue(result.written());

    JsonNode upcycle = Provenance.find(to).orElseThrow().options().path("upcycle");
    assertEquals("megatron", upcycle.path("granular_scaling").asText());
    assertEquals("expert_choice:2.0", upcycle.path("granular_scaling_encoder_router").asText(), "from the recipe");
    assertEquals("top_k:1", upcycle.path("granular_scaling_decoder_router").asText(), "as given");
    assertTrue(upcycle.path("router_virtual_groups").asBoolean());
    assertEquals("normal:0.02", upcycle.path("router_init").asText());

    // encoder: s = E·G/C = 8, decoder: s = E·G/K = 16; gated T5 weights × s^(1/3)
    try (CheckpointReader dense = TfBundleReader.open(from); CheckpointReader moe = TfBundleReader.open(to)) {
      checkChunk(dense, moe, "encoder/layers_1", "wi_0", Math.cbrt(8));
      checkChunk(dense, moe, "decoder/layers_1", "wi_1", Math.cbrt(16));
      double[] router = values(moe.read(CanonicalNames.routerKernel("encoder/layers_1")));
      for (int i = 0; i < T5.dModel(); i++) {
        for (int j = 0; j < E; j++) {
          assertEquals(router[i * E + (j / G) * G], router[i * E + j], 0, "router[" + i + "][" + j + "]");
        }
      }
    }
  }

  /** Expert e of {@code weight} is chunk e mod G of the dense [d, d_ff] kernel times {@code factor}. */
  private static void checkChunk(CheckpointReader dense, CheckpointReader moe, String layer, String weight,
      double factor) throws Exception {
    double[] src = values(dense.read(CanonicalNames.mlp(layer) + "/" + weight + "/kernel"));
    double[] got = values(moe.read(CanonicalNames.expertKernel(layer, weight)));
    int ff = T5.dFf();
    int w = ff / G;
    int d = T5.dModel();
    for (int e = 0; e < E; e++) {
      for (int i = 0; i < d; i++) {
        for (int j = 0; j < w; j++) {
          double want = src[i * ff + (e % G) * w + j] * factor;
          assertEquals((float) want, got[(e * d + i) * w + j], 2e-7 * Math.abs(want), layer + " " + weight + " expert "
              + e);
        }
      }
    }
  }

  private static double[] values(RawTensor t) {
    return FloatCodec.decode(t.data(), t.info().dtype(), 0, (int) t.info().numElements());
  }
}
