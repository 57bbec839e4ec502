package dev.upcycle.ckpt.tf;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.nio.channels.Channels;
import java.nio.file.Files;
import java.nio.file.StandardOpenOption;

/** A {@link TfBundleWriter.FileSink} that fails like a full disk once {@code budget} bytes are written in total. */
final class FullDisk {

  private FullDisk() {}

  static TfBundleWriter.FileSink after(long budget) {
    long[] left = {budget};
    return file -> Channels.newChannel(new FilterOutputStream(Files.newOutputStream(file, StandardOpenOption.CREATE_NEW)) {
      @Override
      public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
      }

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        if (len > left[0]) {
          out.write(b, off, (int) left[0]);
          left[0] = 0;
          throw new IOException("No space left on device");
        }
        left[0] -= len;
        out.write(b, off, len);
      }
    });
  }
}
