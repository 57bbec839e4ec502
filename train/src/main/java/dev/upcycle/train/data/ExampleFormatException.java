package dev.upcycle.train.data;

/**
 * A {@code tf.train.Example} that does not have the feature a reader needs, or has it with the
 * wrong kind or size. The message names the file, the record index and the feature.
 */
public final class ExampleFormatException extends IllegalArgumentException {

  /** Creates the exception with a message that already names file, record and feature. */
  public ExampleFormatException(String message) {
    super(message);
  }

  /** Creates the exception with a message and the parse failure behind it. */
  public ExampleFormatException(String message, Throwable cause) {
    super(message, cause);
  }
}
