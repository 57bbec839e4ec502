package dev.upcycle.tools.experiment;

import static com.google.common.base.Preconditions.checkArgument;

import dev.upcycle.ckpt.AtomicFolder;
import dev.upcycle.tools.demo.DebianPackages;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A SentencePiece vocabulary trained by Debian's {@code spm_train} (package {@code sentencepiece}):
 * unigram, full character coverage, T5's special ids (pad 0, EOS 1, UNK 2, no BOS), one thread so
 * the model depends only on the text.
 */
public final class SpmTrain {

  public static final String PACKAGE = "sentencepiece";
  public static final String PROGRAM = "spm_train";
  public static final String MODEL = "spm.model";

  private SpmTrain() {}

  /** The flags {@code spm_train} gets for {@code text} and {@code vocabSize} (model prefix {@code prefix}). */
  public static List<String> flags(Path text, int vocabSize, Path prefix) {
    return List.of("--input=" + text, "--model_prefix=" + prefix, "--vocab_size=" + vocabSize,
        "--model_type=unigram", "--character_coverage=1.0", "--pad_id=0", "--eos_id=1", "--unk_id=2",
        "--bos_id=-1", "--num_threads=1", "--input_sentence_size=0", "--shuffle_input_sentence=false");
  }

  /** Trains into {@code folder} (published atomically) unless its model is there; returns the model file. */
  public static Path train(Path text, int vocabSize, Path folder, PrintWriter log)
      throws IOException, InterruptedException {
    checkArgument(vocabSize >= 16, "vocabSize must be >= 16, got %s", vocabSize);
    Path model = folder.resolve(MODEL);
    if (Files.isRegularFile(model)) {
      return model;
    }
    Path program = DebianPackages.command(PROGRAM, PACKAGE, log);
    try (AtomicFolder out = AtomicFolder.stage(folder, true)) {
      Path prefix = out.path().resolve("spm");
      List<String> command = new java.util.ArrayList<>(List.of(program.toString()));
      command.addAll(flags(text, vocabSize, prefix));
      Path logFile = out.path().resolve("spm_train.log");
      Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(logFile.toFile()).start();
      p.getOutputStream().close();
      if (!p.waitFor(30, TimeUnit.MINUTES)) {
        p.destroyForcibly();
        throw new IOException(program + " did not finish within 30 minutes on " + text);
      }
      if (p.exitValue() != 0 || !Files.isRegularFile(out.path().resolve(MODEL))) {
        List<String> tail = Files.readAllLines(logFile, StandardCharsets.UTF_8);
        throw new IOException(program + " failed on " + text + " (exit " + p.exitValue() + "): "
            + String.join(" | ", tail.subList(Math.max(0, tail.size() - 3), tail.size())));
      }
      List<String> recorded = new java.util.ArrayList<>(List.of(PROGRAM));
      recorded.addAll(flags(text, vocabSize, folder.resolve("spm")));
      Files.writeString(out.path().resolve("spm_train.command"), String.join(" ", recorded) + "\n");
      out.commit();
    }
    log.printf("data: SentencePiece unigram vocabulary of %d pieces trained by Debian's %s -> %s%n", vocabSize,
        PROGRAM, model);
    return model;
  }
}
