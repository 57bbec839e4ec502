package dev.upcycle.train.data;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.tensorflow.proto.BytesList;
import org.tensorflow.proto.Example;
import org.tensorflow.proto.Feature;
import org.tensorflow.proto.Features;
import org.tensorflow.proto.Int64List;

/**
 * Builds and parses the {@code tf.train.Example} records the trainer reads.
 *
 * <ul>
 *   <li>Token examples: int64 features {@code inputs} and {@code targets} (plus, when packed,
 *       {@code inputs_segment_ids}, {@code inputs_positions}, {@code targets_segment_ids},
 *       {@code targets_positions}).
 *   <li>Image examples: bytes feature {@code image} (raw u8 pixels {@code [height, width,
 *       channels]}), int64 {@code label}, {@code height}, {@code width}, {@code channels}.
 * </ul>
 *
 * <p>Parse errors are {@link ExampleFormatException}s naming the file, the record index and the
 * feature, with the kind found and the kind expected.
 */
public final class ExampleCodec {

  public static final String INPUTS = "inputs";
  public static final String TARGETS = "targets";
  public static final String IMAGE = "image";
  public static final String LABEL = "label";
  public static final String HEIGHT = "height";
  public static final String WIDTH = "width";
  public static final String CHANNELS = "channels";

  /** Token ids of one (possibly packed) text example. */
  public record TokenExample(int[] inputs, int[] targets) {
    public TokenExample {
      checkNotNull(inputs, "inputs");
      checkNotNull(targets, "targets");
    }
  }

  /** One image with its label; {@code pixels} is u8 {@code [height, width, channels]}. */
  public record ImageExample(byte[] pixels, long label, int height, int width, int channels) {
    public ImageExample {
      checkNotNull(pixels, "pixels");
      checkArgument(height > 0 && width > 0 && channels > 0,
          "image shape [%s, %s, %s] must be positive", height, width, channels);
      checkArgument((long) height * width * channels == pixels.length,
          "image of shape [%s, %s, %s] needs %s bytes, got %s",
          height, width, channels, (long) height * width * channels, pixels.length);
    }
  }

  private ExampleCodec() {}

  /** An Example with int64 features {@code inputs} and {@code targets}. */
  public static Example tokens(int[] inputs, int[] targets) {
    checkNotNull(inputs, "inputs");
    checkNotNull(targets, "targets");
    return Example.newBuilder()
        .setFeatures(Features.newBuilder()
            .putFeature(INPUTS, int64Feature(inputs))
            .putFeature(TARGETS, int64Feature(targets)))
        .build();
  }

  /** An Example with one int64 feature per map entry. */
  public static Example int64Features(Map<String, int[]> features) {
    checkNotNull(features, "features");
    Features.Builder fb = Features.newBuilder();
    features.forEach((name, values) -> {
      checkNotNull(values, "values of feature %s", name);
      fb.putFeature(name, int64Feature(values));
    });
    return Example.newBuilder().setFeatures(fb).build();
  }

  /** An image Example (see the class comment for its features). */
  public static Example image(ImageExample image) {
    checkNotNull(image, "image");
    return Example.newBuilder()
        .setFeatures(Features.newBuilder()
            .putFeature(IMAGE, Feature.newBuilder()
                .setBytesList(BytesList.newBuilder().addValue(ByteString.copyFrom(image.pixels())))
                .build())
            .putFeature(LABEL, int64Feature(image.label()))
            .putFeature(HEIGHT, int64Feature(image.height()))
            .putFeature(WIDTH, int64Feature(image.width()))
            .putFeature(CHANNELS, int64Feature(image.channels())))
        .build();
  }

  /** Parses a serialized Example; {@code file}/{@code record} only label errors. */
  public static Example parse(byte[] serialized, String file, long record) {
    checkNotNull(serialized, "serialized");
    try {
      return Example.parseFrom(serialized);
    } catch (InvalidProtocolBufferException e) {
      throw new ExampleFormatException(String.format(
          "%s: record %d is not a tf.train.Example (%d bytes): %s",
          file, record, serialized.length, e.getMessage()), e);
    }
  }

  /** Parses the int64 {@code inputs} and {@code targets} features of a serialized Example. */
  public static TokenExample parseTokens(byte[] serialized, String file, long record) {
    Example ex = parse(serialized, file, record);
    return new TokenExample(
        int64s(ex, INPUTS, file, record), int64s(ex, TARGETS, file, record));
  }

  /** Parses an image Example written by {@link #image}. */
  public static ImageExample parseImage(byte[] serialized, String file, long record) {
    Example ex = parse(serialized, file, record);
    List<ByteString> images = feature(ex, IMAGE, Feature.KindCase.BYTES_LIST, file, record)
        .getBytesList().getValueList();
    if (images.size() != 1) {
      throw new ExampleFormatException(String.format(
          "%s: record %d: feature '%s' has %d values, expected 1", file, record, IMAGE,
          images.size()));
    }
    long label = scalar(ex, LABEL, file, record);
    int height = (int) scalar(ex, HEIGHT, file, record);
    int width = (int) scalar(ex, WIDTH, file, record);
    int channels = (int) scalar(ex, CHANNELS, file, record);
    byte[] pixels = images.get(0).toByteArray();
    if ((long) height * width * channels != pixels.length) {
      throw new ExampleFormatException(String.format(
          "%s: record %d: feature '%s' has %d bytes, but height*width*channels = %d*%d*%d",
          file, record, IMAGE, pixels.length, height, width, channels));
    }
    return new ImageExample(pixels, label, height, width, channels);
  }

  /** The int64 feature {@code name} as ints (values must fit in an int). */
  public static int[] int64s(Example ex, String name, String file, long record) {
    Int64List list = feature(ex, name, Feature.KindCase.INT64_LIST, file, record).getInt64List();
    int[] out = new int[list.getValueCount()];
    for (int i = 0; i < out.length; i++) {
      long v = list.getValue(i);
      if (v != (int) v) {
        throw new ExampleFormatException(String.format(
            "%s: record %d: feature '%s' value %d at index %d does not fit in int32",
            file, record, name, v, i));
      }
      out[i] = (int) v;
    }
    return out;
  }

  /** The single value of int64 feature {@code name}. */
  public static long scalar(Example ex, String name, String file, long record) {
    Int64List list = feature(ex, name, Feature.KindCase.INT64_LIST, file, record).getInt64List();
    if (list.getValueCount() != 1) {
      throw new ExampleFormatException(String.format(
          "%s: record %d: feature '%s' has %d values, expected 1",
          file, record, name, list.getValueCount()));
    }
    return list.getValue(0);
  }

  /** Feature {@code name}, checked to be present and of {@code kind}. */
  public static Feature feature(
      Example ex, String name, Feature.KindCase kind, String file, long record) {
    Map<String, Feature> map = ex.getFeatures().getFeatureMap();
    Feature f = map.get(name);
    if (f == null) {
      throw new ExampleFormatException(String.format(
          "%s: record %d: feature '%s' is missing (expected %s; present: %s)",
          file, record, name, kind, new TreeSet<>(map.keySet())));
    }
    if (f.getKindCase() != kind) {
      throw new ExampleFormatException(String.format(
          "%s: record %d: feature '%s' is %s, expected %s",
          file, record, name, f.getKindCase(), kind));
    }
    return f;
  }

  private static Feature int64Feature(int[] values) {
    Int64List.Builder b = Int64List.newBuilder();
    for (int v : values) {
      b.addValue(v);
    }
    return Feature.newBuilder().setInt64List(b).build();
  }

  private static Feature int64Feature(long value) {
    return Feature.newBuilder().setInt64List(Int64List.newBuilder().addValue(value)).build();
  }
}
