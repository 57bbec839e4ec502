package dev.upcycle.plan;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.upcycle.ckpt.CheckpointFormats;
import dev.upcycle.ckpt.CheckpointReader;
import dev.upcycle.ckpt.RawTensor;
import dev.upcycle.ckpt.TensorInfo;
import dev.upcycle.ckpt.names.NameMap;
import dev.upcycle.ckpt.tf.TfBundleReader;
import dev.upcycle.inspect.Architecture;
import dev.upcycle.inspect.InspectReport;
import dev.upcycle.model.SparseLayout;
import dev.upcycle.model.testing.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every checkpoint fixture is listed by inspect; the Tensor2Tensor one converts with the shipped map. */
class FixturesTest {

  @TempDir Path tmp;

  private static InspectReport inspect(String fixture) throws Exception {
    InspectReport r = InspectReport.of(Fixtures.fixture(fixture), Optional.empty());
    String text = r.format();
    for (InspectReport.Entry e : r.tensors()) {
      assertTrue(text.contains(e.name()), e.name());
    }
    JsonNode json = new ObjectMapper().readTree(r.toJson());
    assertEquals(r.tensors().size(), json.get("tensors").size());
    assertEquals(r.totalBytes(), json.get("totals").get("bytes").asLong());
    return r;
  }

  private static List<String> names(InspectReport r) {
    return r.tensors().stream().map(InspectReport.Entry::name).toList();
  }

  @Test
  void inspectListsEverySavedModelAndT5xFixture() throws Exception {
    InspectReport half = inspect("tfserving_saved_model_half_plus_two_cpu/00000123");
    assertEquals("tf-bundle", half.detected().format());
    assertEquals(List.of("a", "a2", "b", "c", "c2"), names(half));
    assertEquals(20, half.totalBytes());

    InspectReport tf2 = inspect("tfserving_saved_model_half_plus_two_tf2_cpu/00000123");
    assertEquals(CheckpointFormats.TF2_OBJECT_GRAPH, tf2.detected().naming());
    assertEquals(List.of("a", "b", "c"), names(tf2));
    assertEquals(List.of("_CHECKPOINTABLE_OBJECT_GRAPH"), tf2.detected().dropped());

    assertEquals(List.of("counter"), names(inspect("tfserving_saved_model_counter/00000123")));
    assertEquals(3, inspect("tfserving_saved_model_half_plus_three/00000123").tensors().size());
    InspectReport java = inspect("tfjava_saved_model_using_python/model");
    assertEquals(List.of("variable"), names(java));

    InspectReport t5x = inspect("t5x_tiny_t5/checkpoint_1");
    assertEquals("t5x", t5x.detected().format());
    assertEquals(List.of("state/param_states/bias", "state/param_states/kernel", "state/param_states/step",
        "state/step"), names(t5x));
    assertEquals("float64", t5x.tensors().get(1).dtype());
    assertArrayEquals(new long[] {10, 5}, t5x.tensors().get(1).shape());

    InspectReport orbax = inspect("t5x_tiny_orbax/1");
    assertEquals(0, orbax.tensors().size());
    assertEquals(4, orbax.detected().placeholders().size());
    assertTrue(orbax.format().contains("PLACEHOLDER://_optimizer.state.step"), orbax.format());
  }

  @Test
  void t2tCheckpointIsInspectedAndConvertedWithTheShippedMap() throws Exception {
    InspectReport r = inspect("t2t_transformer_test_ckpt");
    assertEquals(CheckpointFormats.T2T, r.detected().naming());
    assertEquals(250, r.detected().stored());
    assertEquals(List.of(), r.detected().unmapped());
    assertEquals(2, r.architecture().encoderLayers());
    assertEquals(2, r.architecture().decoderLayers());
    assertEquals(Architecture.Kind.UNKNOWN, r.architecture().kind(), "sharded embedding: not a T5 layout");
    assertEquals(8, r.architecture().dFf());

    Path from = Fixtures.copyTo("t2t_transformer_test_ckpt", tmp);
    Path to = tmp.resolve("moe");
    NameMap shipped = NameMap.resource("t2t-transformer.map");
    ConvertResult result = ConvertJob.run(from, to, UpcycleOptions.defaults(2), Optional.of(shipped), false, false,
        ProgressListener.NONE);
    assertEquals(1, result.step());
    try (CheckpointReader dense = CheckpointFormats.open(from, Optional.of(shipped));
        CheckpointReader moe = TfBundleReader.open(to)) {
      for (String stack : new String[] {"encoder", "decoder"}) {
        String p = stack + "/layers_1/mlp/";
        String[][] expect = {{"wi/kernel", "16,8"}, {"wi/bias", "8"}, {"wo/kernel", "8,16"}, {"wo/bias", "16"}};
        for (String[] e : expect) {
          RawTensor d = dense.read(p + e[0]);
          RawTensor m = moe.read(p + "expert/" + e[0]);
          assertEquals("[2, " + e[1].replace(",", ", ") + "]", Arrays.toString(m.info().shape()), p + e[0]);
          byte[] db = d.bytes();
          byte[] mb = m.bytes();
          assertArrayEquals(db, Arrays.copyOfRange(mb, 0, db.length));
          assertArrayEquals(db, Arrays.copyOfRange(mb, db.length, 2 * db.length));
        }
        assertArrayEquals(new long[] {16, 2}, moe.read(p + "router/router_weights/w/kernel").info().shape());
        assertTrue(moe.tensors().stream().anyMatch(t -> t.name().equals(stack + "/layers_0/mlp/wi/kernel")));
      }
      // The sharded embedding passes through under its mapped names, unchanged.
      for (int k = 0; k < 16; k++) {
        String n = "token_embedder/embedding_shards/" + k;
        assertArrayEquals(dense.read(n).bytes(), moe.read(n).bytes(), n);
      }
      List<String> out = moe.tensors().stream().map(TensorInfo::name).toList();
      assertTrue(out.stream().noneMatch(n -> n.startsWith("training/") || n.startsWith("losses_avg")), out.toString());
      assertEquals(1, moe.read("state/step").data().getLong(0));
    }
    dev.upcycle.provenance.Provenance record = dev.upcycle.provenance.Provenance.find(to).orElseThrow();
    assertEquals(dev.upcycle.provenance.Provenance.Kind.CONVERT, record.kind());
    assertEquals(dev.upcycle.ckpt.Digests.sha256(from.resolve("model.ckpt-1.index")), record.source().sha256());
    assertEquals("model.ckpt-1.index", record.source().digestFile());
    assertEquals(dev.upcycle.model.BuildInfo.TENSORFLOW_JAVA_VERSION, record.tool().tensorflowJava());
    JsonNode prov = record.options();
    assertEquals(2, prov.get("upcycle").get("num_experts").asInt());
    assertEquals(2, prov.get("plan").get("fresh_router").get("tensors").asInt());
    assertTrue(prov.get("plan").get("drop").get("tensors").asInt() > 100, "t2t Adam slots dropped by the map");
    // a t2t transformer is not a T5 v1.1 / ViT / LM layout: no spec, and the record says why
    assertTrue(record.model() == null, "no model spec for a t2t source");
    assertTrue(prov.get("model_spec_not_recorded").asText().contains("unknown"), prov.toString());
    assertTrue(record.outputs().stream().anyMatch(f -> f.path().equals("checkpoint")), record.outputs().toString());
    assertTrue(Files.isRegularFile(to.resolve("checkpoint")));
  }

  @Test
  void t5xFixtureOpensUnderCanonicalNamesAndRejectsUnmappedUnderAUserMap() throws Exception {
    try (var r = CheckpointFormats.open(Fixtures.fixture("t5x_tiny_t5/checkpoint_1"),
        Optional.of(NameMap.of(NameMap.Rule.map("state/step", "state/step"))))) {
      assertEquals(List.of("state/step"), r.tensors().stream().map(TensorInfo::name).toList());
      assertEquals(3, r.unmapped().size());
      PlanReport report = PlanCheck.check(PlanBuilder.build(r, UpcycleOptions.defaults(2)
          .withLayouts(SparseLayout.DENSE, SparseLayout.DENSE)));
      // the three unmapped names, and a plan without an MoE layer (the map kept no MLP)
      assertEquals(4, report.problems().size(), report.format());
      assertTrue(report.problems().stream().anyMatch(p -> p.contains("state/param_states/bias")), report.format());
      assertTrue(report.problems().stream().anyMatch(p -> p.contains("nothing to upcycle")), report.format());
    }
  }
}
