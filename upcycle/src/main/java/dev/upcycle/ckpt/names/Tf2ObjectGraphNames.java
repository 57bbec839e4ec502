package dev.upcycle.ckpt.names;

import dev.upcycle.model.names.CanonicalNames;

/**
 * TF2 object-graph checkpoints and SavedModel {@code variables/}: {@code <path>/.ATTRIBUTES/VARIABLE_VALUE}
 * → {@code <path>}; Keras optimizer slots {@code <path>/.OPTIMIZER_SLOT/<optimizer>/<slot>/.ATTRIBUTES/VARIABLE_VALUE}
 * → {@code state/param_states/<path>/<slot>}; {@code _CHECKPOINTABLE_OBJECT_GRAPH} and {@code
 * save_counter} are dropped. Names without the suffix stay unmapped.
 */
public final class Tf2ObjectGraphNames {

  private static final NameMap MAP = NameMap.of(
      NameMap.Rule.drop("_CHECKPOINTABLE_OBJECT_GRAPH"),
      NameMap.Rule.drop("save_counter(/\\.ATTRIBUTES/VARIABLE_VALUE)?"),
      NameMap.Rule.map("(.+)/\\.OPTIMIZER_SLOT/[^/]+/([^/]+)/\\.ATTRIBUTES/VARIABLE_VALUE",
          CanonicalNames.slot("$1", "$2")),
      NameMap.Rule.map("(.+)/\\.ATTRIBUTES/VARIABLE_VALUE", "$1"));

  private Tf2ObjectGraphNames() {}

  public static NameMap nameMap() {
    return MAP;
  }
}
