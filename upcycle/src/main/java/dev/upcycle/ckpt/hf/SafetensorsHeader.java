package dev.upcycle.ckpt.hf;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.upcycle.ckpt.CheckpointFormatException;
import dev.upcycle.ckpt.TensorInfo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * The parsed and checked header of one {@code .safetensors} file. Layout (huggingface/safetensors):
 * 8 bytes little-endian unsigned {@code N}; {@code N} bytes of UTF-8 JSON, an object mapping each
 * tensor name to {@code {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}} plus an
 * optional {@code "__metadata__"} object of strings; then the data buffer, to which the offsets are
 * relative. The checks are those of the Rust reader ({@code SafeTensors::read_metadata} and {@code
 * Metadata::validate}), each a {@link CheckpointFormatException} naming the file and tensor:
 * <ul>
 *   <li>{@code N} at most 100,000,000 (the crate's {@code MAX_HEADER_SIZE}) and within the file;
 *   <li>valid UTF-8 and JSON (trailing spaces, which the writer pads to 8 bytes with, are fine),
 *       an object; a name given twice is an error (JSON parsers differ on which copy they keep);
 *   <li>each entry has a known {@code dtype}, a {@code shape} of non-negative integers and
 *       {@code data_offsets} of two; unknown extra fields are ignored, as serde does;
 *   <li>the order of the entries in the JSON is free (the Rust reader sorts them by offsets);
 *       sorted by offsets, the ranges must tile the data buffer: the first starts at 0, each starts
 *       where the previous ended (no gap, no overlap), {@code end >= begin}, and the last ends at
 *       the end of the file ({@code MetadataIncompleteBuffer});
 *   <li>{@code end - begin} equals the element count times the dtype's size, computed without
 *       overflow ({@code TensorInvalidInfo}, {@code ValidationOverflow}).
 * </ul>
 */
final class SafetensorsHeader {

  /** The Rust crate's {@code MAX_HEADER_SIZE}: headers above 100 MB are refused. */
  static final long MAX_HEADER_BYTES = 100_000_000L;
  /** Bytes of the little-endian header length that starts the file. */
  static final int LENGTH_BYTES = 8;
  /** The reserved key of the free-form string map. */
  static final String METADATA_KEY = "__metadata__";

  /** One tensor: its type, shape and byte range {@code [begin, end)} within the data buffer. */
  record Entry(String name, SafetensorsDType dtype, long[] shape, long begin, long end) {
    TensorInfo info() {
      return dtype.readable()
          ? new TensorInfo(name, dtype.dtype(), shape)
          : TensorInfo.unreadable(name, dtype.name(), shape);
    }

    long length() {
      return end - begin;
    }
  }

  private static final JsonFactory JSON = new JsonFactory();
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private final long dataStart;
  private final long fileSize;
  private final Map<String, Entry> entries;
  private final Map<String, String> metadata;

  private SafetensorsHeader(long dataStart, long fileSize, Map<String, Entry> entries, Map<String, String> metadata) {
    this.dataStart = dataStart;
    this.fileSize = fileSize;
    this.entries = Collections.unmodifiableMap(entries);
    this.metadata = Collections.unmodifiableMap(metadata);
  }

  /** File offset of the data buffer ({@code 8 + N}). */
  long dataStart() {
    return dataStart;
  }

  /** The file's size when the header was read. */
  long fileSize() {
    return fileSize;
  }

  /** Entries by name, sorted by name. */
  Map<String, Entry> entries() {
    return entries;
  }

  /** The {@code __metadata__} map (empty when absent). */
  Map<String, String> metadata() {
    return metadata;
  }

  /** Reads and checks the header of {@code file}, open as {@code ch}. */
  static SafetensorsHeader read(Path file, FileChannel ch) throws IOException {
    long size = ch.size();
    if (size < LENGTH_BYTES) {
      throw new CheckpointFormatException(file, null, "file of " + size
          + " bytes is shorter than the 8-byte header length that starts a safetensors file");
    }
    ByteBuffer len = ByteBuffer.allocate(LENGTH_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    readFully(file, ch, len, 0);
    long n = len.getLong(0);
    if (Long.compareUnsigned(n, MAX_HEADER_BYTES) > 0) {
      throw new CheckpointFormatException(file, null, "header length " + Long.toUnsignedString(n)
          + " is over the 100 MB (" + MAX_HEADER_BYTES + " bytes) that safetensors allows (not a safetensors file?)");
    }
    if (n > size - LENGTH_BYTES) {
      throw new CheckpointFormatException(file, null, "header length " + n + " runs past the end of the file ("
          + size + " bytes; truncated, or not a safetensors file?)");
    }
    ByteBuffer header = ByteBuffer.allocate((int) n);
    readFully(file, ch, header, LENGTH_BYTES);
    String json;
    try {
      json = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(header.flip()).toString();
    } catch (CharacterCodingException e) {
      throw new CheckpointFormatException(file, null, "the " + n + "-byte header is not valid UTF-8", e);
    }
    long dataStart = LENGTH_BYTES + n;
    Parsed parsed = parse(file, json);
    check(file, parsed.entries(), size - dataStart);
    Map<String, Entry> byName = new TreeMap<>();
    for (Entry e : parsed.entries()) {
      byName.put(e.name(), e);
    }
    return new SafetensorsHeader(dataStart, size, byName, parsed.metadata());
  }

  private record Parsed(List<Entry> entries, Map<String, String> metadata) {}

  private static Parsed parse(Path file, String json) throws IOException {
    List<Entry> entries = new ArrayList<>();
    Map<String, String> metadata = new LinkedHashMap<>();
    Set<String> seen = new HashSet<>();
    String current = null;
    try (JsonParser p = JSON.createParser(json)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw new CheckpointFormatException(file, null, "the header is not a JSON object (starts with "
            + abbreviate(json.strip()) + ")");
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        current = p.currentName();
        if (!seen.add(current)) {
          throw new CheckpointFormatException(file, current, "is named twice in the header");
        }
        p.nextToken();
        JsonNode value = value(file, current, p);
        if (current.equals(METADATA_KEY)) {
          metadata.putAll(metadata(file, value));
        } else {
          entries.add(entry(file, current, value));
        }
        current = null;
      }
      if (p.nextToken() != null) {
        throw new CheckpointFormatException(file, null, "unexpected content after the header's JSON object");
      }
    } catch (JsonProcessingException e) {
      throw new CheckpointFormatException(file, current, "the header is not valid JSON: " + e.getOriginalMessage(), e);
    }
    return new Parsed(entries, metadata);
  }

  /**
   * The value at the parser's current token as a tree, refusing a key given twice in any object
   * (Jackson's trees silently keep the last copy). Depth is bounded by Jackson's read constraints.
   */
  private static JsonNode value(Path file, String tensor, JsonParser p) throws IOException {
    JsonToken t = p.currentToken();
    switch (t) {
      case START_OBJECT: {
        ObjectNode o = NODES.objectNode();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
          String key = p.currentName();
          p.nextToken();
          if (o.has(key)) {
            throw new CheckpointFormatException(file, tensor, "key '" + key + "' is given twice in its header entry");
          }
          o.set(key, value(file, tensor, p));
        }
        return o;
      }
      case START_ARRAY: {
        ArrayNode a = NODES.arrayNode();
        while (p.nextToken() != JsonToken.END_ARRAY) {
          a.add(value(file, tensor, p));
        }
        return a;
      }
      case VALUE_STRING: return NODES.textNode(p.getText());
      case VALUE_NUMBER_INT: return p.getNumberType() == JsonParser.NumberType.BIG_INTEGER
          ? NODES.numberNode(p.getBigIntegerValue()) : NODES.numberNode(p.getLongValue());
      case VALUE_NUMBER_FLOAT: return NODES.numberNode(p.getDoubleValue());
      case VALUE_TRUE: return NODES.booleanNode(true);
      case VALUE_FALSE: return NODES.booleanNode(false);
      case VALUE_NULL: return NODES.nullNode();
      default: throw new CheckpointFormatException(file, tensor, "unexpected JSON token " + t + " in the header");
    }
  }

  private static Map<String, String> metadata(Path file, JsonNode v) throws CheckpointFormatException {
    if (!v.isObject()) {
      throw new CheckpointFormatException(file, null, METADATA_KEY + " is " + v.getNodeType() + ", expected an object of strings");
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> e : v.properties()) {
      if (!e.getValue().isTextual()) {
        throw new CheckpointFormatException(file, null, METADATA_KEY + " value '" + e.getKey() + "' is "
            + e.getValue().getNodeType() + ", expected a string");
      }
      out.put(e.getKey(), e.getValue().textValue());
    }
    return out;
  }

  private static Entry entry(Path file, String name, JsonNode v) throws CheckpointFormatException {
    if (!v.isObject()) {
      throw new CheckpointFormatException(file, name, "header entry is " + v.getNodeType()
          + ", expected an object with dtype, shape and data_offsets");
    }
    JsonNode dt = v.get("dtype");
    if (dt == null || !dt.isTextual()) {
      throw new CheckpointFormatException(file, name, dt == null ? "header entry has no dtype"
          : "dtype is " + dt.getNodeType() + ", expected a string such as \"F32\"");
    }
    SafetensorsDType dtype = SafetensorsDType.parse(dt.textValue());
    if (dtype == null) {
      throw new CheckpointFormatException(file, name, "unknown dtype '" + dt.textValue() + "'; safetensors dtypes: "
          + Arrays.stream(SafetensorsDType.values()).map(Enum::name).collect(Collectors.joining(", ")));
    }
    long[] shape = naturals(file, name, v, "shape", -1);
    long[] offsets = naturals(file, name, v, "data_offsets", 2);
    return new Entry(name, dtype, shape, offsets[0], offsets[1]);
  }

  /** An array field of non-negative integers; {@code length} -1 for any length. */
  private static long[] naturals(Path file, String name, JsonNode v, String field, int length)
      throws CheckpointFormatException {
    JsonNode a = v.get(field);
    String expected = length < 0 ? "an array of non-negative integers" : "an array of " + length + " non-negative integers";
    if (a == null) {
      throw new CheckpointFormatException(file, name, "header entry has no " + field);
    }
    if (!a.isArray() || (length >= 0 && a.size() != length)) {
      throw new CheckpointFormatException(file, name, field + " is " + abbreviate(a.toString()) + ", expected " + expected);
    }
    long[] out = new long[a.size()];
    for (int i = 0; i < out.length; i++) {
      JsonNode d = a.get(i);
      if (!d.isIntegralNumber() || !d.canConvertToLong() || d.longValue() < 0) {
        throw new CheckpointFormatException(file, name, field + " is " + abbreviate(a.toString()) + ", expected " + expected);
      }
      out[i] = d.longValue();
    }
    return out;
  }

  /** Sorted by offsets, the ranges must tile {@code [0, dataLength)} and match dtype × shape. */
  private static void check(Path file, List<Entry> entries, long dataLength) throws CheckpointFormatException {
    List<Entry> sorted = new ArrayList<>(entries);
    sorted.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end).thenComparing(Entry::name));
    long expected = 0;
    Entry previous = null;
    for (Entry e : sorted) {
      String range = "data_offsets [" + e.begin() + ", " + e.end() + "]";
      if (e.end() < e.begin()) {
        throw new CheckpointFormatException(file, e.name(), range + " end before they begin");
      }
      if (e.end() > dataLength) {
        throw new CheckpointFormatException(file, e.name(), range + " lie outside the data buffer of "
            + dataLength + " bytes (truncated file?)");
      }
      if (e.begin() < expected) {
        throw new CheckpointFormatException(file, e.name(), range + " overlap tensor '" + previous.name()
            + "' at [" + previous.begin() + ", " + previous.end() + "]");
      }
      if (e.begin() > expected) {
        throw new CheckpointFormatException(file, e.name(), range + " leave bytes [" + expected + ", " + e.begin()
            + ") of the data buffer to no tensor (safetensors requires the ranges to cover the buffer contiguously)");
      }
      long bytes;
      try {
        long elements = 1;
        for (long d : e.shape()) {
          elements = Math.multiplyExact(elements, d);
        }
        bytes = e.dtype().byteSize(elements);
      } catch (ArithmeticException overflow) {
        throw new CheckpointFormatException(file, e.name(), "shape " + Arrays.toString(e.shape())
            + " of " + e.dtype() + " overflows a 64-bit byte count");
      }
      if (bytes != e.length()) {
        throw new CheckpointFormatException(file, e.name(), range + " hold " + e.length() + " bytes but "
            + e.dtype() + Arrays.toString(e.shape()) + " needs "
            + (bytes < 0 ? "a whole number of bytes" : bytes + " bytes"));
      }
      expected = e.end();
      previous = e;
    }
    if (expected != dataLength) {
      throw new CheckpointFormatException(file, null, "the data buffer has " + (dataLength - expected)
          + " bytes after the last tensor's data (at " + expected + " of " + dataLength
          + "); safetensors requires the ranges to cover the buffer to the end of the file");
    }
  }

  static void readFully(Path file, FileChannel ch, ByteBuffer into, long position) throws IOException {
    long pos = position;
    while (into.hasRemaining()) {
      int n = ch.read(into, pos);
      if (n < 0) {
        throw new CheckpointFormatException(file, null, "file ended at byte " + pos + " (changed since it was opened?)");
      }
      pos += n;
    }
  }

  private static String abbreviate(String s) {
    return s.length() > 60 ? s.substring(0, 57) + "..." : s;
  }
}
