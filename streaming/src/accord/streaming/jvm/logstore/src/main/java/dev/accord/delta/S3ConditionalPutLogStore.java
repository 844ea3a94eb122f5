package dev.accord.delta;

import io.delta.storage.HadoopFileSystemLogStore;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.util.Iterator;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FSDataOutputStreamBuilder;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.s3a.RemoteFileChangedException;

/**
 * A Delta log store for S3 that creates each commit file with a conditional write
 * ({@code If-None-Match: *}), so that of two applications committing the same table version the
 * second is refused by S3 itself and Delta retries it on the next version.
 *
 * <p>Delta's own {@code S3SingleDriverLogStore} only excludes concurrent commits inside one JVM;
 * its DynamoDB-backed store needs a second service. S3 has refused a conditional write of an
 * existing key since 2024, and S3A sends one for {@code fs.option.create.conditional.overwrite}.
 */
public final class S3ConditionalPutLogStore extends HadoopFileSystemLogStore {

  /** The S3A create option that sends {@code If-None-Match: *}. */
  static final String CONDITIONAL_CREATE = "fs.option.create.conditional.overwrite";

  public S3ConditionalPutLogStore(Configuration initHadoopConf) {
    super(initHadoopConf);
  }

  @Override
  public void write(Path path, Iterator<String> actions, Boolean overwrite, Configuration hadoopConf)
      throws IOException {
    FileSystem fs = path.getFileSystem(hadoopConf);
    if (overwrite) {
      try (FSDataOutputStream out = fs.create(path, true)) {
        writeActions(out, actions);
      }
      return;
    }
    FSDataOutputStreamBuilder<?, ?> create = fs.createFile(path);
    create.overwrite(false);
    create.must(CONDITIONAL_CREATE, true);
    try (FSDataOutputStream out = create.build()) {
      writeActions(out, actions);
    } catch (RemoteFileChangedException | org.apache.hadoop.fs.FileAlreadyExistsException taken) {
      // 412 on the upload in close(), or the key seen before it: this version belongs to another
      // commit, and Delta needs exactly this exception to retry on the next one
      FileAlreadyExistsException refused = new FileAlreadyExistsException(path.toString());
      refused.initCause(taken);
      throw refused;
    }
  }

  /** One PUT makes the whole object visible at once, or none of it. */
  @Override
  public Boolean isPartialWriteVisible(Path path, Configuration hadoopConf) {
    return false;
  }

  private static void writeActions(OutputStream out, Iterator<String> actions) throws IOException {
    while (actions.hasNext()) {
      out.write((actions.next() + "\n").getBytes(StandardCharsets.UTF_8));
    }
  }
}
