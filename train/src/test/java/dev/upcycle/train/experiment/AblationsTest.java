package dev.upcycle.train.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.RouterConfig;
import dev.upcycle.plan.UpcycleOptions;
import dev.upcycle.train.config.TrainConfig;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Every ablation changes exactly the thing it names, into models the training config accepts. */
class AblationsTest {

  private static final Variant BASE = BranchPlannerTest.variant("last_2", 8);

  private static ModelSpec spec(Variant v) {
    Map<String, String> s = new LinkedHashMap<>(Map.of("model.preset", "vit-mnist"));
    s.putAll(v.moeSettings());
    return TrainConfig.defaults().withOverrides(s).modelSpec();
  }

  private static RouterConfig router(Variant v) {
    return spec(v).moe().orElseThrow().router(false);
  }

  @Test
  void everyAblationBuildsDistinctValidVariants() {
    for (String name : Ablations.names()) {
      List<Variant> vs = Ablations.variants(name, BASE, 4);
      assertTrue(vs.size() >= 2, name);
      assertEquals(vs.size(), vs.stream().map(Variant::name).distinct().count(), name + ": names distinct");
      vs.forEach(AblationsTest::spec);
    }
  }

  @Test
  void routerAblation() {
    List<Variant> vs = Ablations.variants("router", BASE, 4);
    assertEquals(List.of("ec-c2", "top1", "top1-bpr", "top2", "top2-bpr"), vs.stream().map(Variant::name).toList());
    RouterConfig top2 = router(vs.get(3));
    assertEquals(dev.upcycle.model.RouterType.TOP_K, top2.type());
    assertEquals(2, top2.k());
    assertEquals(1.0, top2.capacityFactor());
    assertTrue(router(vs.get(4)).batchPrioritized());
    // Top-K (K) at C 1 takes the slots Expert Choice (C = K) takes
    assertEquals(router(vs.get(0)).capacity(1024, 8), top2.capacity(1024, 8));
    assertTrue(router(vs.get(0)).renormalize(), "the base's renormalisation is kept");
  }

  @Test
  void shapeAndOptionAblations() {
    assertEquals(List.of(4, 8, 16, 32), Ablations.variants("experts", BASE, 4).stream().map(Variant::experts).toList());
    assertEquals(List.of("EC C 2, E 4", "EC C 2, E 8", "EC C 2, E 16", "EC C 2, E 32"),
        Ablations.variants("experts", BASE, 4).stream().map(Variant::description).toList());
    Variant recipeLike = BASE.renamed("last_2", "E 8, Expert Choice C 2, blocks 2-3");
    assertEquals(List.of("E 4, Expert Choice C 2, blocks 2-3", "E 32, Expert Choice C 2, blocks 2-3"),
        List.of(Ablations.withExpertCount(recipeLike, 4), Ablations.withExpertCount(recipeLike, 32)),
        "a recipe's leading E 8 is replaced, not contradicted");
    List<Variant> place = Ablations.variants("placement", BASE, 4);
    assertEquals(List.of(1, 3), List.copyOf(spec(place.get(0)).encoderLayout().sparseLayers(4)));
    assertEquals(List.of(2, 3), List.copyOf(spec(place.get(1)).encoderLayout().sparseLayers(4)));
    List<Variant> cap = Ablations.variants("capacity", BASE, 4);
    assertEquals(List.of(1.0, 2.0), cap.stream().map(v -> router(v).capacityFactor()).toList());
    List<Variant> renorm = Ablations.variants("renormalize", BASE, 4);
    assertNotEquals(router(renorm.get(0)).renormalize(), router(renorm.get(1)).renormalize());
    List<Variant> state = Ablations.variants("optimizer-state", BASE, 4);
    assertEquals(UpcycleOptions.OptimizerState.COPY, state.get(0).upcycleOptions(0).optimizerState());
    assertEquals(UpcycleOptions.OptimizerState.RESET, state.get(1).upcycleOptions(0).optimizerState());
    List<Variant> drop = Ablations.variants("drop-upcycling", BASE, 4);
    assertEquals(0.0, drop.get(0).upcycleOptions(0).dropUpcyclingRatio());
    assertEquals(0.5, drop.get(1).upcycleOptions(0).dropUpcyclingRatio());
    List<Variant> noise = Ablations.variants("noise", BASE, 4);
    assertEquals(List.of(0.0, 0.01, 0.1), noise.stream().map(v -> v.upcycleOptions(0).noiseStddev()).toList());
    // the options keep the variant's shape and seed
    UpcycleOptions o = noise.get(2).upcycleOptions(5);
    assertEquals(8, o.numExperts());
    assertEquals(5, o.seed());
  }

  @Test
  void branchDefinitionsNameOnlyNonDefaultNewOptions() {
    // a finished branch is reused only for an equal definition: options added later with defaults
    // that keep the old behaviour must not change the definition of runs that do not use them
    var plain = BranchRunner.upcycleDefinition(BASE.upcycleOptions(3));
    assertEquals(3, plain.get("seed").asInt());
    assertEquals("last_2", plain.get("encoder_layout").asText());
    assertTrue(!plain.has("granular_scaling") && !plain.has("router_virtual_groups"), plain.toString());
    var noisy = BranchRunner.upcycleDefinition(Ablations.variants("noise", BASE, 4).get(2).upcycleOptions(3));
    assertEquals(0.1, noisy.get("noise").asDouble());
    assertNotEquals(plain, noisy);
  }

  @Test
  void unknownAblationNamesTheChoices() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Ablations.variants("nosuch", BASE, 4));
    assertTrue(e.getMessage().contains("router") && e.getMessage().contains("experts"), e.getMessage());
  }
}
