package dev.upcycle.ckpt;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads the small JSON files that travel with checkpoints ({@code .zarray}, {@code config.json},
 * {@code model.safetensors.index.json}) as strict UTF-8 text, which JSON is (RFC 8259), before a
 * parser sees them: a file that is not UTF-8 (or is far too large to be such a file) is a {@link
 * CheckpointFormatException} naming it, not the bare {@code CharConversionException} of a parser
 * that guessed UTF-32 from its first bytes or the {@code MalformedInputException} of {@link
 * Files#readString}.
 */
public final class TextFiles {

  /** Largest metadata file read: far above any real one (a sharded index of a 100B model is ~1 MB). */
  public static final int MAX_BYTES = 64 << 20;

  private TextFiles() {}

  /** The text of {@code file} (named with {@code tensor}, or null, in errors). */
  public static String readUtf8(Path file, String tensor) throws CheckpointFormatException {
    return readUtf8(file, file, tensor);
  }

  /** The text of {@code read}, named {@code file} in errors (the path given, when {@code read} is its real path). */
  public static String readUtf8(Path read, Path file, String tensor) throws CheckpointFormatException {
    byte[] bytes;
    try (InputStream in = Files.newInputStream(read)) {
      bytes = in.readNBytes(MAX_BYTES + 1);
    } catch (IOException e) {
      throw FileErrors.cannotRead(file, tensor, e);
    }
    if (bytes.length > MAX_BYTES) {
      throw new CheckpointFormatException(file, tensor, "is larger than " + (MAX_BYTES >> 20)
          + " MiB: not the small JSON metadata file expected here");
    }
    try {
      return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
    } catch (CharacterCodingException e) {
      throw new CheckpointFormatException(file, tensor, "is not UTF-8 text (JSON is UTF-8): corrupt file?", e);
    }
  }
}
