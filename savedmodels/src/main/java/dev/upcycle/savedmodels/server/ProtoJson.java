package dev.upcycle.savedmodels.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.MapEntry;
import com.google.protobuf.Message;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A protocol buffer message as JSON the way TF Serving prints its metadata response
 * ({@code MessageToJsonString} with {@code preserve_proto_field_names} and
 * {@code always_print_fields_with_no_presence}, {@code http_rest_api_util.cc}): proto field names,
 * fields without presence printed even at their default ({@code "name": ""}, {@code "dim": []},
 * {@code "defaults": {}}), message and oneof fields only when set, 64-bit integers as strings,
 * enums by name, bytes as base64. TF Java ships no {@code JsonFormat} (protobuf-java-util). Map
 * entries are written sorted by key.
 */
final class ProtoJson {

  private static final JsonNodeFactory F = JsonNodeFactory.instance;

  private ProtoJson() {}

  static ObjectNode of(Message m) {
    ObjectNode out = F.objectNode();
    for (FieldDescriptor f : m.getDescriptorForType().getFields()) {
      if (f.hasPresence() && !m.hasField(f)) {
        continue;
      }
      Object value = m.getField(f);
      if (f.isMapField()) {
        TreeMap<String, JsonNode> sorted = new TreeMap<>();
        for (Object entry : (List<?>) value) {
          MapEntry<?, ?> e = (MapEntry<?, ?>) entry;
          FieldDescriptor valueField = e.getDescriptorForType().findFieldByName("value");
          sorted.put(String.valueOf(e.getKey()), scalar(valueField, e.getValue()));
        }
        ObjectNode map = out.putObject(f.getName());
        sorted.forEach(map::set);
      } else if (f.isRepeated()) {
        ArrayNode list = out.putArray(f.getName());
        for (Object v : (List<?>) value) {
          list.add(scalar(f, v));
        }
      } else {
        out.set(f.getName(), scalar(f, value));
      }
    }
    return out;
  }

  private static JsonNode scalar(FieldDescriptor f, Object v) {
    return switch (f.getJavaType()) {
      case MESSAGE -> of((Message) v);
      case ENUM -> F.textNode(((EnumValueDescriptor) v).getName());
      case STRING -> F.textNode((String) v);
      case BYTE_STRING -> F.textNode(Base64.getEncoder().encodeToString(((ByteString) v).toByteArray()));
      case BOOLEAN -> F.booleanNode((Boolean) v);
      case INT -> f.getType() == FieldDescriptor.Type.UINT32 || f.getType() == FieldDescriptor.Type.FIXED32
          ? F.numberNode(Integer.toUnsignedLong((Integer) v)) : F.numberNode((Integer) v);
      case LONG -> F.textNode(f.getType() == FieldDescriptor.Type.UINT64 || f.getType() == FieldDescriptor.Type.FIXED64
          ? Long.toUnsignedString((Long) v) : Long.toString((Long) v));
      case FLOAT -> F.numberNode((Float) v);
      case DOUBLE -> F.numberNode((Double) v);
    };
  }

  /** {@code {"signature_def": {name: SignatureDef, ...}}}: TF Serving's {@code SignatureDefMap} message. */
  static ObjectNode signatureDefMap(Map<String, ? extends Message> signatures) {
    ObjectNode map = F.objectNode();
    ObjectNode defs = map.putObject("signature_def");
    new TreeMap<>(signatures).forEach((name, def) -> defs.set(name, of(def)));
    return map;
  }
}
