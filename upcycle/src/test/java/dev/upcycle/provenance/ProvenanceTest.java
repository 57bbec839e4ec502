package dev.upcycle.provenance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.upcycle.model.BuildInfo;
import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.MoeConfig;
import dev.upcycle.model.Presets;
import dev.upcycle.model.SparseLayout;
import dev.upcycle.model.config.ConfigJson;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The provenance record: written, found and read back whole; unreadable records are named errors. */
class ProvenanceTest {

  @TempDir Path tmp;

  private static final ModelSpec MOE = ModelSpec.sparse(Presets.get("t5-tiny"), MoeConfig.paperT5(4),
      SparseLayout.EVERY_OTHER, SparseLayout.lastN(1));

  private static Provenance chain() {
    ObjectNode convertOptions = Provenance.newOptions().put("num_experts", 4);
    Provenance convert = Provenance.of(Provenance.Kind.CONVERT,
        new Provenance.Source("/ckpts/t5", "t5x", "checkpoint", "ab".repeat(32)), convertOptions, MOE, null);
    return Provenance.of(Provenance.Kind.TRAIN, new Provenance.Source("/ckpts/t5_moe", "tf-bundle",
        "model.ckpt-0.index", "cd".repeat(32)), Provenance.newOptions().put("run_dir", "/runs/a"), MOE, convert);
  }

  @Test
  void aRecordRoundTripsWithItsParentSpecAndOutputs() throws Exception {
    Path folder = Files.createDirectories(tmp.resolve("step_000010"));
    Files.write(folder.resolve("model.ckpt-10.index"), new byte[] {1, 2, 3});
    Files.createDirectories(folder.resolve("sub"));
    Files.write(folder.resolve("sub/data"), new byte[7]);
    Provenance written = chain().withOption("step", ConfigJson.MAPPER.getNodeFactory().numberNode(10L))
        .withOutputsOf(folder);
    written.writeTo(folder);

    Provenance read = Provenance.find(folder).orElseThrow();
    assertEquals(json(written), json(read), "the JSON form round-trips");
    assertEquals(Provenance.Kind.TRAIN, read.kind());
    assertEquals(MOE, read.spec().orElseThrow());
    assertEquals(MOE, read.parent().spec().orElseThrow());
    assertEquals(Provenance.Kind.CONVERT, read.parent().kind());
    assertEquals(10, read.options().get("step").asLong());
    assertEquals(List.of(new Provenance.OutputFile("model.ckpt-10.index", 3), new Provenance.OutputFile("sub/data", 7)),
        read.outputs(), "every file but the record itself");
    assertEquals(new Provenance.Tool(BuildInfo.TOOL, BuildInfo.PROJECT_VERSION, BuildInfo.TENSORFLOW_JAVA_VERSION,
        BuildInfo.TENSORFLOW_RUNTIME_VERSION), read.tool());
    String json = Files.readString(folder.resolve(Provenance.FILE), StandardCharsets.UTF_8);
    assertTrue(json.contains("\"kind\" : \"train\"") && json.contains("\"format_version\" : 1"), json);

    // found beside a bundle prefix and in a SavedModel's assets.extra/
    assertEquals(json(written), json(Provenance.find(folder.resolve("model.ckpt-10")).orElseThrow()));
    Path version = Files.createDirectories(tmp.resolve("serving/1/assets.extra"));
    written.writeTo(version);
    assertEquals(json(written), json(Provenance.find(tmp.resolve("serving/1")).orElseThrow()));
    assertEquals(Optional.empty(), Provenance.find(Files.createDirectories(tmp.resolve("bare"))));
  }

  private static String json(Provenance p) {
    return new String(p.toJson(), StandardCharsets.UTF_8);
  }

  @Test
  void unreadableRecordsAreErrorsNamingTheFile() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("bad"));
    Path file = dir.resolve(Provenance.FILE);
    Files.writeString(file, "{not json");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Provenance.find(dir));
    assertTrue(e.getMessage().startsWith(file.toString()) && e.getMessage().contains("not valid JSON"), e.getMessage());

    Files.writeString(file, "{\"tool\": \"upcycle convert\"}");
    e = assertThrows(IllegalArgumentException.class, () -> Provenance.find(dir));
    assertTrue(e.getMessage().contains("no format_version"), e.getMessage());

    Files.writeString(file, new String(chain().toJson(), StandardCharsets.UTF_8).replace("\"format_version\" : 1",
        "\"format_version\" : 7"));
    e = assertThrows(IllegalArgumentException.class, () -> Provenance.find(dir));
    assertTrue(e.getMessage().contains("format_version 7 is newer"), e.getMessage());

    Files.writeString(file, new String(chain().toJson(), StandardCharsets.UTF_8).replace("\"kind\" : \"train\"",
        "\"kind\" : \"bake\""));
    e = assertThrows(IllegalArgumentException.class, () -> Provenance.find(dir));
    assertTrue(e.getMessage().startsWith(file.toString()) && e.getMessage().contains("bake"), e.getMessage());
  }
}
