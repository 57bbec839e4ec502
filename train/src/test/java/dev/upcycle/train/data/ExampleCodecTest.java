package dev.upcycle.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.model.testing.Fixtures;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.Example;

class ExampleCodecTest {

  @Test
  void tokenExampleRoundTrip() {
    int[] inputs = {5, 6, 7, 1};
    int[] targets = {31999, 8, 1};
    byte[] bytes = ExampleCodec.tokens(inputs, targets).toByteArray();
    ExampleCodec.TokenExample back = ExampleCodec.parseTokens(bytes, "mem", 0);
    assertArrayEquals(inputs, back.inputs());
    assertArrayEquals(targets, back.targets());
    // the wire form is a real tf.train.Example: check through the generic proto API
    Example ex = ExampleCodec.parse(bytes, "mem", 0);
    assertEquals(3, ex.getFeatures().getFeatureMap().get("targets").getInt64List().getValueCount());
  }

  @Test
  void int64FeaturesKeepsEveryFeature() {
    Map<String, int[]> m = new LinkedHashMap<>();
    m.put("inputs", new int[] {1, 2});
    m.put("inputs_segment_ids", new int[] {1, 1});
    Example ex = ExampleCodec.int64Features(m);
    assertArrayEquals(new int[] {1, 1},
        ExampleCodec.int64s(ex, "inputs_segment_ids", "mem", 3));
  }

  @Test
  void imageExampleRoundTrip() {
    byte[] px = new byte[2 * 3 * 1];
    for (int i = 0; i < px.length; i++) {
      px[i] = (byte) (250 + i);
    }
    var img = new ExampleCodec.ImageExample(px, 7, 2, 3, 1);
    var back = ExampleCodec.parseImage(ExampleCodec.image(img).toByteArray(), "mem", 0);
    assertArrayEquals(px, back.pixels());
    assertEquals(7, back.label());
    assertEquals(2, back.height());
    assertEquals(3, back.width());
    assertEquals(1, back.channels());
  }

  @Test
  void missingFeatureNamesFileRecordAndFeature() throws IOException {
    Path file = Fixtures.fixture("tfrecord_tfx_penguin/Split-eval/data_tfrecord-00000-of-00001.gz");
    byte[] rec;
    try (TfRecordReader r = TfRecordReader.open(file)) {
      r.skip(3);
      rec = r.readNext();
    }
    ExampleFormatException e = assertThrows(ExampleFormatException.class,
        () -> ExampleCodec.parseTokens(rec, file.toString(), 3));
    assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
    assertTrue(e.getMessage().contains("record 3"), e.getMessage());
    assertTrue(e.getMessage().contains("'inputs' is missing"), e.getMessage());
    assertTrue(e.getMessage().contains("species"), e.getMessage());
  }

  @Test
  void wrongKindIsNamed() throws IOException {
    Path file = Fixtures.fixture("tfrecord_pegasus/data.tfrecord");
    byte[] rec;
    try (TfRecordReader r = TfRecordReader.open(file)) {
      rec = r.readNext();
    }
    ExampleFormatException e = assertThrows(ExampleFormatException.class,
        () -> ExampleCodec.parseTokens(rec, file.toString(), 0));
    assertTrue(e.getMessage().contains("'inputs' is BYTES_LIST, expected INT64_LIST"),
        e.getMessage());
  }

  @Test
  void garbageIsNotAnExample() {
    ExampleFormatException e = assertThrows(ExampleFormatException.class,
        () -> ExampleCodec.parse(new byte[] {(byte) 0xff, (byte) 0xff, 0x01}, "x.tfrecord", 9));
    assertTrue(e.getMessage().contains("x.tfrecord: record 9"), e.getMessage());
  }

  @Test
  void imageShapeMismatchIsRejected() {
    assertThrows(IllegalArgumentException.class,
        () -> new ExampleCodec.ImageExample(new byte[5], 0, 2, 3, 1));
  }
}
