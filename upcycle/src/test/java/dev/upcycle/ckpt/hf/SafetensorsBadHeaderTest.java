package dev.upcycle.ckpt.hf;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.ckpt.CheckpointFormatException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each header defect, built by hand, is a {@link CheckpointFormatException} naming the file, the tensor and the fault. */
class SafetensorsBadHeaderTest {

  @TempDir Path tmp;

  private static String entry(String dtype, String shape, long begin, long end) {
    return "{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" + begin + "," + end + "]}";
  }

  /** Opens a file of these bytes and returns the failure; checks it names the file and {@code parts}. */
  private CheckpointFormatException refused(byte[] file, String... parts) throws Exception {
    Path f = Files.write(tmp.resolve("bad.safetensors"), file);
    CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> SafetensorsReader.open(f).close());
    assertTrue(e.getMessage().startsWith(f.toString()), e.getMessage());
    for (String p : parts) {
      assertTrue(e.getMessage().contains(p), "message lacks '" + p + "': " + e.getMessage());
    }
    return e;
  }

  private CheckpointFormatException refused(String header, int dataBytes, String... parts) throws Exception {
    return refused(SafetensorsTestWriter.file(header, new byte[dataBytes]), parts);
  }

  private static byte[] withLength(long n, int totalBytes) {
    return ByteBuffer.allocate(totalBytes).order(ByteOrder.LITTLE_ENDIAN).putLong(n).array();
  }

  @Test
  void fileShorterThanTheLength() throws Exception {
    refused(new byte[] {4, 0, 0}, "shorter than the 8-byte header length");
  }

  @Test
  void headerLengthBeyondTheFile() throws Exception {
    refused(withLength(100, 40), "header length 100 runs past the end of the file (40 bytes");
  }

  @Test
  void headerLengthOver100Mb() throws Exception {
    refused(withLength(100_000_001L, 64), "header length 100000001 is over the 100 MB");
    refused(withLength(-1L, 64), "header length 18446744073709551615 is over the 100 MB");
  }

  @Test
  void headerNotUtf8() throws Exception {
    refused(SafetensorsTestWriter.file(new byte[] {'{', '"', (byte) 0xC3, (byte) 0x28, '"', '}'}, new byte[0]),
        "not valid UTF-8");
  }

  @Test
  void headerNotJson() throws Exception {
    refused("{\"a\": {\"dtype\": ", 0, "not valid JSON");
    refused("{} trailing", 0, "not valid JSON");
  }

  @Test
  void headerNotAnObject() throws Exception {
    refused("[1, 2]", 0, "not a JSON object");
    refused("{\"a\": 3}", 0, "tensor 'a'", "header entry is NUMBER");
    refused("{\"__metadata__\": [1]}", 0, "__metadata__ is ARRAY");
    refused("{\"__metadata__\": {\"n\": 1}}", 0, "__metadata__ value 'n' is NUMBER, expected a string");
  }

  @Test
  void entryFieldsMissingOrOfTheWrongType() throws Exception {
    refused("{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "tensor 'a'", "no dtype");
    refused("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4, "tensor 'a'", "no shape");
    refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, "tensor 'a'", "no data_offsets");
    refused("{\"a\":{\"dtype\":7,\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "dtype is NUMBER");
    refused("{\"a\":" + entry("F32", "\"1\"", 0, 4) + "}", 4, "tensor 'a'", "shape is \"1\", expected an array");
    refused("{\"a\":" + entry("F32", "[-1]", 0, 4) + "}", 4, "shape is [-1]");
    refused("{\"a\":" + entry("F32", "[1.5]", 0, 4) + "}", 4, "shape is [1.5]");
    refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4, "data_offsets is [0], expected an array of 2");
    refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,\"4\"]}}", 4, "data_offsets is [0,\"4\"]");
    refused("{\"a\":" + entry("F33", "[1]", 0, 4) + "}", 4, "tensor 'a'", "unknown dtype 'F33'", "BF16");
  }

  @Test
  void duplicateNames() throws Exception {
    refused("{\"a\":" + entry("F32", "[1]", 0, 4) + ",\"a\":" + entry("F32", "[1]", 4, 8) + "}", 8,
        "tensor 'a'", "named twice");
    refused("{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
        "tensor 'a'", "key 'dtype' is given twice");
  }

  @Test
  void offsetsOutsideTheBuffer() throws Exception {
    refused("{\"a\":" + entry("F32", "[4]", 0, 16) + "}", 8, "tensor 'a'", "[0, 16] lie outside the data buffer of 8 bytes");
  }

  @Test
  void endBeforeBegin() throws Exception {
    refused("{\"a\":" + entry("F32", "[1]", 8, 4) + "}", 8, "tensor 'a'", "[8, 4] end before they begin");
  }

  @Test
  void overlappingRanges() throws Exception {
    refused("{\"a\":" + entry("F32", "[2]", 0, 8) + ",\"b\":" + entry("F32", "[2]", 4, 12) + "}", 12,
        "tensor 'b'", "[4, 12] overlap tensor 'a' at [0, 8]");
  }

  /** Out of order in the JSON and, sorted, not contiguous: a gap the Rust reader also refuses. */
  @Test
  void unsortedRangesWithAGap() throws Exception {
    refused("{\"b\":" + entry("F32", "[2]", 12, 20) + ",\"a\":" + entry("F32", "[2]", 0, 8) + "}", 20,
        "tensor 'b'", "leave bytes [8, 12) of the data buffer to no tensor");
    refused("{\"a\":" + entry("F32", "[2]", 4, 12) + "}", 12, "tensor 'a'", "leave bytes [0, 4)");
  }

  @Test
  void bytesAfterTheLastTensor() throws Exception {
    refused("{\"a\":" + entry("F32", "[2]", 0, 8) + "}", 12, "4 bytes after the last tensor's data");
  }

  @Test
  void sizeDisagreesWithDtypeAndShape() throws Exception {
    refused("{\"a\":" + entry("F32", "[3]", 0, 8) + "}", 8, "tensor 'a'", "hold 8 bytes but F32[3] needs 12 bytes");
    refused("{\"a\":" + entry("BF16", "[2,2]", 0, 4) + "}", 4, "hold 4 bytes but BF16[2, 2] needs 8 bytes");
    refused("{\"a\":" + entry("F4", "[3]", 0, 2) + "}", 2, "F4[3] needs a whole number of bytes");
  }

  @Test
  void sizeOverflow() throws Exception {
    refused("{\"a\":" + entry("F32", "[4611686018427387904,8]", 0, 0) + "}", 0, "tensor 'a'", "overflows");
    refused("{\"a\":" + entry("F64", "[4611686018427387904]", 0, 0) + "}", 0, "tensor 'a'", "overflows");
    refused("{\"a\":" + entry("F32", "[99999999999999999999]", 0, 0) + "}", 0, "tensor 'a'", "shape is [99999999999999999999]");
  }
}
