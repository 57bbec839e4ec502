package dev.upcycle.ckpt.hf;

import static dev.upcycle.ckpt.hf.SafetensorsReaderTest.f32;
import static dev.upcycle.ckpt.hf.SafetensorsReaderTest.shorts;
import static dev.upcycle.ckpt.hf.SafetensorsTestWriter.raw;
import static dev.upcycle.ckpt.hf.SafetensorsTestWriter.shardName;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.ckpt.CheckpointFormatException;
import dev.upcycle.ckpt.DType;
import dev.upcycle.ckpt.RawTensor;
import dev.upcycle.ckpt.TensorInfo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Sharded safetensors: the index and its shards read as one checkpoint; every disagreement is named. */
class SafetensorsShardedReaderTest {

  @TempDir Path tmp;

  private static final RawTensor A = raw("a", DType.FLOAT32, new long[] {2}, f32(1, 2));
  private static final RawTensor B = raw("b", DType.BFLOAT16, new long[] {3}, shorts(0x3F80, 0x0001, 0x7FC1));
  private static final RawTensor C = raw("c", DType.FLOAT16, new long[] {1, 2}, shorts(0x3C00, 0x8000));
  private static final RawTensor D = raw("d", DType.FLOAT32, new long[0], f32(-4));

  private void assertMentions(Exception e, String... parts) {
    for (String p : parts) {
      assertTrue(e.getMessage().contains(p), "message lacks '" + p + "': " + e.getMessage());
    }
  }

  private CheckpointFormatException refused(Path index, String... parts) {
    CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
        () -> SafetensorsShardedReader.open(index).close());
    assertMentions(e, index.toString());
    assertMentions(e, parts);
    return e;
  }

  @Test
  void threeShardsReadAsOne() throws Exception {
    Path index = SafetensorsTestWriter.writeSharded(tmp, List.of(List.of(C, A), List.of(B), List.of(D)));
    try (SafetensorsShardedReader r = SafetensorsShardedReader.open(index)) {
      assertEquals(SafetensorsReader.FORMAT, r.format());
      assertEquals(index, r.source());
      assertEquals(List.of("a", "b", "c", "d"), r.tensors().stream().map(TensorInfo::name).toList());
      assertEquals(3, r.shards().size());
      assertEquals(tmp.resolve(shardName(1, 3)), r.shards().get(1).source());
      assertEquals(8 + 6 + 4 + 4, r.totalSize().orElseThrow());
      for (RawTensor t : List.of(A, B, C, D)) {
        RawTensor got = r.read(t.name());
        assertEquals(t.info(), got.info());
        assertArrayEquals(t.bytes(), got.bytes(), t.name());
      }
      assertMentions(assertThrows(CheckpointFormatException.class, () -> r.read("e")), "'e'", "no such tensor");
    }
  }

  @Test
  void missingShardsAreNamed() throws Exception {
    Path index = SafetensorsTestWriter.writeSharded(tmp, List.of(List.of(A), List.of(B, C), List.of(D)));
    Files.delete(tmp.resolve(shardName(1, 3)));
    refused(index, "shard " + shardName(1, 3) + " (2 tensors, e.g. 'b') named in the index is missing", "incomplete download");
    Files.delete(tmp.resolve(shardName(2, 3)));
    refused(index, "shards " + shardName(1, 3) + " (2 tensors, e.g. 'b'), " + shardName(2, 3) + " (1 tensors, e.g. 'd')");
  }

  @Test
  void tensorInAnotherShardThanTheIndexSays() throws Exception {
    SafetensorsTestWriter.writeSharded(tmp, List.of(List.of(A), List.of(B)));
    Path index = SafetensorsTestWriter.writeIndex(tmp, Map.of("a", shardName(1, 2), "b", shardName(1, 2)), 0);
    // shard 1 of 2 is named but holds only b; a is in shard 0, which the index no longer names.
    refused(index, "tensor 'a'", "the index maps it to " + shardName(1, 2) + " but that shard does not hold it");
    Path index2 = SafetensorsTestWriter.writeIndex(tmp, Map.of("a", shardName(1, 2), "b", shardName(0, 2)), 0);
    refused(index2, "tensor 'a'", "the index maps it to " + shardName(1, 2) + " but it is in " + shardName(0, 2));
  }

  @Test
  void tensorInAShardButNotInTheIndex() throws Exception {
    SafetensorsTestWriter.writeSharded(tmp, List.of(List.of(A, C), List.of(B)));
    Path index = SafetensorsTestWriter.writeIndex(tmp, Map.of("a", shardName(0, 2), "b", shardName(1, 2)), 0);
    refused(index, "tensor 'c'", "is in shard " + shardName(0, 2) + " but not in the index's weight_map");
  }

  @Test
  void sameTensorInTwoShards() throws Exception {
    SafetensorsTestWriter.writeSharded(tmp, List.of(List.of(A), List.of(A, B)));
    Path index = SafetensorsTestWriter.writeIndex(tmp, Map.of("a", shardName(0, 2), "b", shardName(1, 2)), 0);
    refused(index, "tensor 'a'", "is in two shards, " + shardName(0, 2) + " and " + shardName(1, 2));
  }

  @Test
  void shardNamesMayNotLeaveTheFolder() throws Exception {
    Path sub = Files.createDirectories(tmp.resolve("sub"));
    SafetensorsTestWriter.write(tmp.resolve("outside.safetensors"), List.of(A));
    refused(SafetensorsTestWriter.writeIndex(sub, Map.of("a", "../outside.safetensors"), 8),
        "tensor 'a'", "names shard '../outside.safetensors'", "plain file name");
    refused(SafetensorsTestWriter.writeIndex(tmp, Map.of("a", "sub/x.safetensors"), 8), "names shard 'sub/x.safetensors'");
    refused(SafetensorsTestWriter.writeIndex(tmp, Map.of("a", ".."), 8), "names shard '..'");
  }

  @Test
  void badIndexFiles() throws Exception {
    Path index = tmp.resolve("model.safetensors.index.json");
    Files.writeString(index, "{\"weight_map\": {\"a\": ");
    refused(index, "not valid JSON");
    Files.writeString(index, "{\"weight_map\": {\"a\": \"x.safetensors\", \"a\": \"y.safetensors\"}}");
    refused(index, "not valid JSON", "Duplicate field 'a'");
    Files.writeString(index, "{\"metadata\": {}}");
    refused(index, "no weight_map");
    Files.writeString(index, "[]");
    refused(index, "not a JSON object");
    Files.writeString(index, "{\"weight_map\": {\"a\": 1}}");
    refused(index, "tensor 'a'", "weight_map value is NUMBER");
  }

  @Test
  void aBadShardIsNamed() throws Exception {
    Path index = SafetensorsTestWriter.writeSharded(tmp, List.of(List.of(A), List.of(B)));
    Path shard = tmp.resolve(shardName(1, 2));
    Files.write(shard, new byte[] {1, 2});
    CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> SafetensorsShardedReader.open(index));
    assertMentions(e, shard.toString(), "shorter than the 8-byte header length");
  }
}
