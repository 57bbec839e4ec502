package dev.upcycle.model.names;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The builders give the spellings of DESIGN.md §3. */
class CanonicalNamesTest {

  @Test
  void optimizerStateNames() {
    assertEquals("state/step", CanonicalNames.STEP);
    assertEquals("state/param_states", CanonicalNames.PARAM_STATES);
    assertEquals(List.of("m", "v", "v_row", "v_col"), CanonicalNames.SLOTS);
    assertEquals("state/param_states/encoder/layers_0/mlp/wi_0/kernel/v_row",
        CanonicalNames.slot("encoder/layers_0/mlp/wi_0/kernel", CanonicalNames.V_ROW));
    assertEquals("state/param_states/token_embedder/embedding/m",
        CanonicalNames.slot("token_embedder/embedding", CanonicalNames.M));
    assertEquals("state/param_states/decoder/logits_dense/kernel/",
        CanonicalNames.slotPrefix("decoder/logits_dense/kernel"));
    assertTrue(CanonicalNames.isState(CanonicalNames.STEP));
    assertTrue(CanonicalNames.isSlot(CanonicalNames.slot("a/kernel", CanonicalNames.V)));
    assertFalse(CanonicalNames.isSlot(CanonicalNames.STEP));
    assertFalse(CanonicalNames.isState("encoder/layers_0/mlp/wi_0/kernel"));
  }

  @Test
  void expertAndRouterPaths() {
    assertEquals("encoder/layers_1/mlp", CanonicalNames.mlp("encoder/layers_1"));
    assertEquals("encoder/layers_1/mlp/expert", CanonicalNames.experts("encoder/layers_1/mlp"));
    assertEquals("encoder/layers_1/mlp/expert/wi_0/kernel", CanonicalNames.expertKernel("encoder/layers_1", "wi_0"));
    assertEquals("decoder/layers_3/mlp/expert/wo/kernel", CanonicalNames.expertKernel("decoder/layers_3", "wo"));
    assertEquals("encoder/layers_1/mlp/expert/wi/bias", CanonicalNames.expertOf("encoder/layers_1/mlp", "wi/bias"));
    assertEquals("encoder/layers_1/mlp/router/router_weights/w/kernel",
        CanonicalNames.routerKernel("encoder/layers_1"));
    assertEquals("encoder/layers_1/mlp/router/router_weights/w/kernel",
        CanonicalNames.router("encoder/layers_1/mlp"));
  }

  @Test
  void recognisesExpertAndRouterNames() {
    String expert = CanonicalNames.expertKernel("encoder/layers_1", "wi_1");
    assertTrue(CanonicalNames.isExpert(expert));
    assertFalse(CanonicalNames.isRouter(expert));
    assertTrue(CanonicalNames.isRouter(CanonicalNames.routerKernel("decoder/layers_0")));
    assertEquals("encoder/layers_1/mlp/wi_1/kernel", CanonicalNames.denseOf(expert));
    assertEquals("encoder/layers_1/attention/query/kernel",
        CanonicalNames.denseOf("encoder/layers_1/attention/query/kernel"));
  }

  @Test
  void refusesEmptyOrSlashEndedPaths() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CanonicalNames.mlp("encoder/"));
    assertTrue(e.getMessage().contains("'encoder/'"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> CanonicalNames.slot("a/kernel", ""));
    assertThrows(NullPointerException.class, () -> CanonicalNames.router(null));
  }
}
