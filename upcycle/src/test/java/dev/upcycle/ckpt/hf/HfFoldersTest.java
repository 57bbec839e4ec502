package dev.upcycle.ckpt.hf;

import static dev.upcycle.ckpt.hf.SafetensorsReaderTest.f32;
import static dev.upcycle.ckpt.hf.SafetensorsTestWriter.raw;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.ckpt.CheckpointFormatException;
import dev.upcycle.ckpt.CheckpointReader;
import dev.upcycle.ckpt.DType;
import dev.upcycle.ckpt.RawTensor;
import dev.upcycle.ckpt.TensorInfo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which Hugging Face form a folder holds, and the refusal of pickles. */
class HfFoldersTest {

  @TempDir Path tmp;

  private static final List<RawTensor> ONE = List.of(raw("shared/weight", DType.FLOAT32, new long[] {1}, f32(2)));

  private HfFolders.HfFolder detected(Path dir) throws Exception {
    assertTrue(HfFolders.looksLike(dir));
    return HfFolders.detect(dir).orElseThrow();
  }

  private static void assertOpens(HfFolders.HfFolder f, String format) throws Exception {
    try (CheckpointReader r = f.open()) {
      assertEquals(format, r.format());
      assertEquals(format, f.form().format());
      assertEquals(1, r.tensors().size());
      assertEquals(2f, r.read(r.tensors().get(0).name()).data().getFloat(), 0f);
    }
  }

  @Test
  void eachReadFormIsRecognisedAndOpens() throws Exception {
    Path single = Files.createDirectories(tmp.resolve("single"));
    SafetensorsTestWriter.write(single.resolve(HfFolders.SAFETENSORS), ONE);
    Files.writeString(single.resolve(HfFolders.CONFIG), "{}");
    HfFolders.HfFolder s = detected(single);
    assertEquals(HfFolders.Form.SAFETENSORS, s.form());
    assertEquals(Optional.of(single.resolve(HfFolders.CONFIG)), s.config());
    assertOpens(s, "hf-safetensors");

    Path sharded = Files.createDirectories(tmp.resolve("sharded"));
    SafetensorsTestWriter.writeSharded(sharded, List.of(ONE));
    HfFolders.HfFolder sh = detected(sharded);
    assertEquals(HfFolders.Form.SAFETENSORS_SHARDED, sh.form());
    assertEquals(sharded.resolve(HfFolders.SAFETENSORS_INDEX), sh.weights());
    assertEquals(Optional.empty(), sh.config());
    assertOpens(sh, "hf-safetensors");

    Path flax = Files.createDirectories(tmp.resolve("flax"));
    FlaxMsgpackTestWriter.write(flax.resolve(HfFolders.FLAX), ONE);
    HfFolders.HfFolder fl = detected(flax);
    assertEquals(HfFolders.Form.FLAX, fl.form());
    assertOpens(fl, "hf-flax");
    try (CheckpointReader r = fl.open()) {
      assertEquals(List.of(new TensorInfo("shared/weight", DType.FLOAT32, new long[] {1})), r.tensors());
    }
  }

  @Test
  void safetensorsWinsOverFlaxAndPickles() throws Exception {
    FlaxMsgpackTestWriter.write(tmp.resolve(HfFolders.FLAX), ONE);
    Files.write(tmp.resolve(HfFolders.PYTORCH), new byte[] {(byte) 0x80, 2});
    assertEquals(HfFolders.Form.FLAX, detected(tmp).form());
    SafetensorsTestWriter.write(tmp.resolve(HfFolders.SAFETENSORS), ONE);
    assertEquals(HfFolders.Form.SAFETENSORS, detected(tmp).form());
  }

  @Test
  void picklesAreRefusedSayingWhatIsRead() throws Exception {
    for (String name : List.of(HfFolders.PYTORCH, HfFolders.PYTORCH_INDEX)) {
      Path dir = Files.createDirectories(tmp.resolve(name + "-dir"));
      Files.write(dir.resolve(name), new byte[] {(byte) 0x80, 2});
      Files.writeString(dir.resolve(HfFolders.CONFIG), "{}");
      assertTrue(HfFolders.looksLike(dir));
      CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> HfFolders.detect(dir));
      for (String p : List.of(dir.resolve(name).toString(), "not read", HfFolders.SAFETENSORS,
          HfFolders.SAFETENSORS_INDEX, HfFolders.FLAX, "save_pretrained(OUT_DIR, safe_serialization=True)")) {
        assertTrue(e.getMessage().contains(p), "message lacks '" + p + "': " + e.getMessage());
      }
    }
  }

  @Test
  void aFolderWithoutHfWeightsIsNotOne() throws Exception {
    assertFalse(HfFolders.looksLike(tmp));
    assertEquals(Optional.empty(), HfFolders.detect(tmp));
    Files.writeString(tmp.resolve(HfFolders.CONFIG), "{}");
    assertFalse(HfFolders.looksLike(tmp));
    assertEquals(Optional.empty(), HfFolders.detect(tmp));
    assertFalse(HfFolders.looksLike(tmp.resolve(HfFolders.CONFIG)));
  }
}
