package dev.upcycle.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code upcycle train} then {@code upcycle export}, as a user runs them: the step folder's config is used. */
class ExportCliTest {

  @Test
  void aTrainedMoeStepFolderExportsAsATfServingVersion(@TempDir Path tmp) {
    Path run = tmp.resolve("run");
    Cli train = Cli.run("train", "--synthetic", "--no-xla", "--steps", "2", "--output", run.toString(),
        "--set", "model.preset=vit-mnist", "--set", "batch_size=4", "--set", "moe.num_experts=4",
        "--set", "moe.encoder_layout=last_2", "--set", "optimizer.name=adamw");
    assertEquals(0, train.code(), train.err());
    Path step = run.resolve("checkpoints/step_000002");
    assertTrue(Files.isDirectory(step), "step folder " + step);

    Path base = tmp.resolve("serving/vit");
    Cli export = Cli.run("export", "--checkpoint", step.toString(), "--to", base.toString(), "--batch", "3",
        "--version", "5");
    assertEquals(0, export.code(), export.err());
    assertTrue(export.out().contains("loaded and run in TensorFlow"), export.out());
    assertTrue(Files.isRegularFile(base.resolve("5/saved_model.pb")));
    assertTrue(Files.isRegularFile(base.resolve("5/variables/variables.index")));
    assertTrue(Files.isRegularFile(base.resolve("5/assets.extra/provenance.json")));

    Cli again = Cli.run("export", "--checkpoint", step.toString(), "--to", base.toString(), "--version", "5");
    assertEquals(1, again.code());
    assertTrue(again.err().contains(base.resolve("5").toString()) && again.err().contains("exists"), again.err());

    // the dense config against the MoE checkpoint: refused, naming the checkpoint and what differs
    Cli wrong = Cli.run("export", "--checkpoint", step.toString(), "--to", base.toString(), "--version", "6",
        "--set", "moe.num_experts=0");
    assertEquals(1, wrong.code(), wrong.err());
    assertTrue(wrong.err().contains("does not match the serving model"), wrong.err());
    assertTrue(Files.notExists(base.resolve("6")));
  }
}
