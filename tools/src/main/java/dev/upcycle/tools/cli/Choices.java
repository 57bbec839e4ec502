package dev.upcycle.tools.cli;

import dev.upcycle.model.SparseLayout;
import dev.upcycle.plan.GranularScaling;
import dev.upcycle.plan.UpcycleOptions;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Locale;
import java.util.function.Function;
import java.util.stream.Collectors;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Converters of the flags that take one of a set of values: a bad value is a usage error (exit 2)
 * that names the value and lists the choices, e.g. {@code Invalid value for option '--format':
 * expected one of tf, t5x, got 'xyz'}. Enum choices are the constants' names in lower case, matched
 * case-insensitively; each enum converter is also the option's completion candidates, so
 * {@code ${COMPLETION-CANDIDATES}} in a description lists them.
 */
final class Choices {

  private Choices() {}

  /** An enum flag: lower-case names, case-insensitive. */
  abstract static class LowerCaseEnum<E extends Enum<E>> implements ITypeConverter<E>, Iterable<String> {
    private final Class<E> type;

    LowerCaseEnum(Class<E> type) {
      this.type = type;
    }

    @Override
    public E convert(String value) {
      for (E e : type.getEnumConstants()) {
        if (e.name().equalsIgnoreCase(value.trim())) {
          return e;
        }
      }
      throw new TypeConversionException("expected one of " + String.join(", ", this) + ", got '" + value + "'");
    }

    @Override
    public Iterator<String> iterator() {
      return Arrays.stream(type.getEnumConstants()).map(e -> e.name().toLowerCase(Locale.ROOT))
          .collect(Collectors.toList()).iterator();
    }
  }

  /** {@code convert --format}. */
  static final class OutputFormats extends LowerCaseEnum<UpcycleOptions.OutputFormat> {
    OutputFormats() {
      super(UpcycleOptions.OutputFormat.class);
    }
  }

  /** {@code convert --optimizer-state}. */
  static final class OptimizerStates extends LowerCaseEnum<UpcycleOptions.OptimizerState> {
    OptimizerStates() {
      super(UpcycleOptions.OptimizerState.class);
    }
  }

  /** A value with a small grammar: the parser's own message (which lists the forms) as a usage error. */
  abstract static class Parsed<T> implements ITypeConverter<T> {
    private final Function<String, T> parser;

    Parsed(Function<String, T> parser) {
      this.parser = parser;
    }

    @Override
    public T convert(String value) {
      try {
        return parser.apply(value);
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException(e.getMessage());
      }
    }
  }

  /** {@code convert --layout / --decoder-layout}: none, every_other, last_N or a list like 1,3,5. */
  static final class Layouts extends Parsed<SparseLayout> {
    Layouts() {
      super(SparseLayout::parse);
    }
  }

  /** {@code convert --router-init}: zeros, ones, normal:STD, fan_in:SCALE or virtual-groups[:INIT]. */
  static final class RouterInits extends Parsed<UpcycleOptions.RouterInit> {
    RouterInits() {
      super(UpcycleOptions.RouterInit::parse);
    }
  }

  /** {@code convert --granular-scaling}: wo-times-g or megatron; also the completion candidates. */
  static final class GranularScalings extends Parsed<GranularScaling.Method> implements Iterable<String> {
    GranularScalings() {
      super(GranularScaling.Method::parse);
    }

    @Override
    public Iterator<String> iterator() {
      return Arrays.stream(GranularScaling.Method.values()).map(GranularScaling.Method::spelling).iterator();
    }
  }

  /** {@code convert --scaling-router / --decoder-scaling-router}: top_k:K[:renormalize] or expert_choice:C[:renormalize]. */
  static final class ScalingRouters extends Parsed<GranularScaling.Routing> {
    ScalingRouters() {
      super(GranularScaling.Routing::parse);
    }
  }
}
