package dev.upcycle.ckpt.tf;

import dev.upcycle.ckpt.CheckpointFormatException;
import dev.upcycle.ckpt.FileErrors;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code checkpoint} state file TF keeps beside its bundles: a {@code CheckpointState} text
 * proto whose {@code model_checkpoint_path} names the latest prefix (relative to the folder or
 * absolute).
 */
final class CheckpointStateFile {

  static final String FILE_NAME = "checkpoint";

  private static final Pattern FIELD =
      Pattern.compile("(?m)^\\s*model_checkpoint_path\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"");

  private static final int MAX_STATE_FILE_BYTES = 1 << 20;

  private CheckpointStateFile() {}

  /** The latest prefix named by {@code folder/checkpoint}, resolved against the folder. */
  static Optional<Path> latestPrefix(Path folder) throws IOException {
    Path file = folder.resolve(FILE_NAME);
    if (!Files.isRegularFile(file)) {
      return Optional.empty();
    }
    // Other formats also use the name 'checkpoint' (T5X: a msgpack file that may be huge):
    // a state file is a few lines, so only its head is read, decoded leniently.
    byte[] head;
    try (InputStream in = Files.newInputStream(file)) {
      head = in.readNBytes(MAX_STATE_FILE_BYTES);
    } catch (IOException e) {
      throw FileErrors.cannotRead(file, null, e);
    }
    String text = new String(head, StandardCharsets.UTF_8);
    Matcher m = FIELD.matcher(text);
    if (!m.find()) {
      throw new CheckpointFormatException(file, null, "no model_checkpoint_path: \"...\" line: not a TF checkpoint"
          + " state file (and not a T5X msgpack checkpoint, which is binary)");
    }
    String raw = unescape(m.group(1), file);
    Path named;
    try {
      named = folder.resolve(raw);
    } catch (InvalidPathException e) { // a NUL byte, say (TfBundleFuzzTest state file case 22, seed 14)
      throw new CheckpointFormatException(file, null, "model_checkpoint_path \"" + raw.replace("\0", "\\0")
          + "\" is not a valid path: " + e.getReason());
    }
    // Checkpoints copied off the machine that wrote them keep that machine's absolute paths:
    // fall back to the same file name beside the state file, where TF's own copies put it.
    if (!Files.exists(Path.of(named + ".index")) && Files.exists(folder.resolve(named.getFileName() + ".index"))) {
      named = folder.resolve(named.getFileName());
    }
    return Optional.of(named);
  }

  /** The text of a state file naming {@code latest} (a file name in the same folder) and all kept prefixes. */
  static String format(String latest, List<String> all) {
    StringBuilder sb = new StringBuilder();
    sb.append("model_checkpoint_path: \"").append(escape(latest)).append("\"\n");
    for (String p : all) {
      sb.append("all_model_checkpoint_paths: \"").append(escape(p)).append("\"\n");
    }
    return sb.toString();
  }

  private static String escape(String s) {
    return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
  }

  /** Undoes the C-style escapes of a text-proto string (\\, \", \', \n, \t, \r, octal \NNN). */
  private static String unescape(String s, Path file) throws CheckpointFormatException {
    ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    byte[] in = s.getBytes(StandardCharsets.UTF_8);
    for (int i = 0; i < in.length; i++) {
      byte b = in[i];
      if (b != '\\') {
        out.write(b);
        continue;
      }
      if (++i >= in.length) {
        throw new CheckpointFormatException(file, null, "dangling backslash in model_checkpoint_path");
      }
      byte e = in[i];
      switch (e) {
        case 'n' -> out.write('\n');
        case 't' -> out.write('\t');
        case 'r' -> out.write('\r');
        case '\\', '"', '\'' -> out.write(e);
        default -> {
          if (e >= '0' && e <= '7') {
            int v = 0;
            int n = 0;
            while (n < 3 && i < in.length && in[i] >= '0' && in[i] <= '7') {
              v = v * 8 + (in[i++] - '0');
              n++;
            }
            i--;
            out.write(v);
          } else {
            throw new CheckpointFormatException(file, null, "unknown escape \\" + (char) e + " in model_checkpoint_path");
          }
        }
      }
    }
    return out.toString(StandardCharsets.UTF_8);
  }
}
