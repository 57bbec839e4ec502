package dev.upcycle.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.model.testing.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code upcycle inspect} and {@code upcycle convert} on the shared fixtures, as a user runs them. */
class ConvertCliTest {

  @Test
  void inspectListsEveryCheckpointFixture() {
    for (String f : new String[] {"t2t_transformer_test_ckpt", "t5x_tiny_t5/checkpoint_1",
        "tfserving_saved_model_half_plus_two_cpu/00000123", "tfserving_saved_model_half_plus_two_tf2_cpu/00000123",
        "tfjava_saved_model_using_python/model", "tfserving_saved_model_counter/00000123"}) {
      Cli r = Cli.run("inspect", Fixtures.fixture(f).toString());
      assertEquals(0, r.code(), f + ": " + r.err());
      assertTrue(r.out().contains("format:") && r.out().contains("total:"), f + ": " + r.out());
    }
  }

  @Test
  void t2tFixtureConvertsAndTheResultIsAnMoeCheckpoint(@TempDir Path tmp) {
    Path out = tmp.resolve("moe");
    Cli r = Cli.run("convert", "--from", Fixtures.fixture("t2t_transformer_test_ckpt").toString(), "--to",
        out.toString(), "--experts", "4");
    assertEquals(0, r.code(), r.err());
    assertTrue(Files.exists(out.resolve("provenance.json")));
    Cli inspect = Cli.run("inspect", out.toString());
    assertTrue(inspect.out().lines().anyMatch(l -> l.contains("encoder/layers_1/mlp/expert/wi/kernel")
        && l.contains("float32") && l.contains("[4, 16, 8]")), inspect.out());
    assertTrue(inspect.out().contains("encoder/layers_1/mlp/router/router_weights/w/kernel"), inspect.out());
    assertFalse(inspect.out().contains("encoder/layers_0/mlp/expert"), "layer 0 stays dense: " + inspect.out());

    Cli again = Cli.run("convert", "--from", Fixtures.fixture("t2t_transformer_test_ckpt").toString(), "--to",
        out.toString(), "--experts", "4");
    assertEquals(1, again.code());
    assertTrue(again.err().contains(out.toString()) && again.err().contains("exists"), again.err());
  }

  @Test
  void dryRunWritesNothingAndBadInputExitsNonZero(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("moe");
    Cli dry = Cli.run("convert", "--from", Fixtures.fixture("t2t_transformer_test_ckpt").toString(), "--to",
        out.toString(), "--experts", "4", "--dry-run");
    assertEquals(0, dry.code(), dry.err());
    assertTrue(dry.out().contains("TILE") && dry.out().contains("plan check: OK"), dry.out());
    assertFalse(Files.exists(out));

    Path broken = Fixtures.copyTo("t2t_transformer_test_ckpt", tmp);
    Files.delete(broken.resolve("model.ckpt-1.data-00001-of-00002"));
    Cli missing = Cli.run("convert", "--from", broken.toString(), "--to", out.toString(), "--experts", "4");
    assertEquals(1, missing.code());
    assertTrue(missing.err().contains("data-00001-of-00002"), missing.err());
    assertFalse(Files.exists(out), "nothing at --to after a failure");

    Cli usage = Cli.run("convert", "--from", "x", "--to", out.toString());
    assertEquals(2, usage.code(), "missing --experts is a usage error");
  }

  @Test
  void inspectListsABundleWhoseDataShardIsMissingAndExitsOne(@TempDir Path tmp) throws Exception {
    Path broken = Fixtures.copyTo("t2t_transformer_test_ckpt", tmp);
    Path shard = broken.resolve("model.ckpt-1.data-00001-of-00002");
    Files.delete(shard);
    Cli complete = Cli.run("inspect", Fixtures.fixture("t2t_transformer_test_ckpt").toString());
    Cli r = Cli.run("inspect", broken.toString());
    assertEquals(1, r.code(), r.err());
    String listing = complete.out().lines().filter(l -> l.startsWith("  ") || l.startsWith("total:")).toList()
        .toString();
    assertEquals(listing, r.out().lines().filter(l -> (l.startsWith("  ") || l.startsWith("total:"))
        && !l.startsWith("  missing data shard:")).toList().toString(), "the same listing, from the index alone");
    assertTrue(r.out().contains("  missing data shard: " + shard), r.out());
    assertTrue(r.err().lines().anyMatch(l -> l.startsWith("error: ") && l.contains(shard.toString())), r.err());

    Cli json = Cli.run("inspect", "--json", broken.toString());
    assertEquals(1, json.code());
    var tree = new com.fasterxml.jackson.databind.ObjectMapper().readTree(json.out());
    assertEquals(shard.toString(), tree.get("missing_shards").get(0).asText());
    assertFalse(tree.get("readable").asBoolean());
    assertTrue(tree.get("tensors").size() > 10, json.out());
  }

  @Test
  void anOrbaxSourceIsRefusedBeforeAnyWriteAndInspectNamesItsPlaceholders(@TempDir Path tmp) {
    Path orbax = Fixtures.fixture("t5x_tiny_orbax/1");
    Path out = tmp.resolve("moe");
    Cli r = Cli.run("convert", "--from", orbax.toString(), "--to", out.toString(), "--experts", "4");
    assertEquals(1, r.code(), r.out());
    assertTrue(r.err().contains(orbax.resolve("checkpoint").toString()) && r.err().contains("PLACEHOLDER://")
        && r.err().contains("Orbax checkpoint"), r.err());
    assertFalse(r.out().contains("0 tensors"), r.out());
    assertFalse(Files.exists(out), "nothing at --to");
    try (var siblings = Files.list(tmp)) {
      assertEquals(0, siblings.count(), "no staging folder left beside --to");
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }

    Cli inspect = Cli.run("inspect", orbax.toString());
    assertEquals(0, inspect.code(), inspect.err());
    assertTrue(inspect.out().contains("4 Orbax placeholders"), inspect.out());
    assertTrue(inspect.out().contains("Orbax placeholder (values not readable): state/step = PLACEHOLDER://"),
        inspect.out());
  }
}
