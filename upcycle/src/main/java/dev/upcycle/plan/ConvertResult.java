package dev.upcycle.plan;

import java.nio.file.Path;
import java.time.Duration;

/**
 * What a {@link ConvertJob} did.
 *
 * @param written false for a dry run
 * @param output the output folder ({@code --to}), present only when written
 * @param step the step counter carried (0 when the source has none)
 * @param tensorsWritten target tensors written
 * @param bytesWritten tensor bytes written (file overhead aside)
 * @param bytesRead tensor bytes read from the source
 */
public record ConvertResult(UpcyclePlan plan, PlanReport report, boolean written, Path output, long step,
    int tensorsWritten, long bytesWritten, long bytesRead, Duration elapsed) {}
