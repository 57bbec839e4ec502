package dev.upcycle.ckpt.hf;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * One Hugging Face naming as data: rows pairing a stored name with its canonical name and the
 * {@link HfTensorLayout} between them; stored names that duplicate another stored tensor and are
 * dropped; and stored names that show a model our graphs do not hold, refused with a reason.
 * Per-layer rows carry {@link #LAYER} in both names and repeat over one stack's layers, so the
 * table yields the exact list of tensors a model of given depth must have ({@link #entries}).
 *
 * @param naming the label of this naming ({@code hf-t5}, {@code hf-vit})
 * @param dialect how the stored names are spelled
 */
public record HfNameTable(String naming, HfDialect dialect, List<Row> rows, List<Duplicate> duplicates,
    List<Refused> refused) {

  /** The layer placeholder in per-layer rows: {@code {i}}. */
  public static final String LAYER = "{i}";

  /** Which layer count a row repeats over. */
  public enum Repeat { ONCE, ENCODER_LAYERS, DECODER_LAYERS }

  /** A stored name ↔ canonical name, with the layout transform between them. */
  public record Row(Repeat repeat, String stored, String canonical, HfTensorLayout layout) {
    public Row {
      checkNotNull(repeat, "repeat of %s", stored);
      checkNotNull(stored, "stored name");
      checkNotNull(canonical, "canonical name of %s", stored);
      checkNotNull(layout, "layout of %s", stored);
      boolean perLayer = repeat != Repeat.ONCE;
      checkArgument(stored.contains(LAYER) == perLayer && canonical.contains(LAYER) == perLayer,
          "row %s → %s: %s rows need %s in both names, others in neither", stored, canonical, repeat, LAYER);
    }
  }

  /** A stored tensor that repeats {@code of} and is dropped (e.g. {@code encoder.embed_tokens.weight}). */
  public record Duplicate(String stored, String of) {}

  /** Stored names (a full-match regex) that mean a model our graphs cannot hold, and why. */
  public record Refused(Pattern pattern, String reason) {}

  /** One tensor a model of given depth has: a row with the layer filled in. */
  public record Entry(String stored, String canonical, HfTensorLayout layout) {}

  public HfNameTable {
    checkNotNull(naming, "naming");
    checkNotNull(dialect, "dialect of %s", naming);
    rows = List.copyOf(rows);
    duplicates = List.copyOf(duplicates);
    refused = List.copyOf(refused);
  }

  /** Every tensor a model with these stack depths has, in table order. */
  public List<Entry> entries(int encoderLayers, int decoderLayers) {
    checkArgument(encoderLayers >= 0 && decoderLayers >= 0, "layer counts %s, %s", encoderLayers, decoderLayers);
    List<Entry> out = new ArrayList<>();
    for (Row r : rows) {
      int n = switch (r.repeat()) {
        case ONCE -> 1;
        case ENCODER_LAYERS -> encoderLayers;
        case DECODER_LAYERS -> decoderLayers;
      };
      for (int i = 0; i < n; i++) {
        String layer = Integer.toString(i);
        out.add(new Entry(r.stored().replace(LAYER, layer), r.canonical().replace(LAYER, layer), r.layout()));
      }
    }
    return out;
  }

  /** The duplicate row of a stored name, or null. */
  public Duplicate duplicate(String stored) {
    for (Duplicate d : duplicates) {
      if (d.stored().equals(stored)) {
        return d;
      }
    }
    return null;
  }

  /** Why a stored name is refused, or null when no refusal matches it. */
  public String refusal(String stored) {
    for (Refused r : refused) {
      if (r.pattern().matcher(stored).matches()) {
        return r.reason();
      }
    }
    return null;
  }
}
