// core/storage/importer.hpp
//
// The import pipeline: file -> reader (ingest) -> out-of-area check -> one atomic store batch.
//
// Guarantees:
// * One file is one batch, written in one transaction: killed mid-import, the file is either
//   wholly present or absent, and running the import again completes it. A file reported
//   imported (FileDone) also survives power loss.
// * Re-importing a file whose bytes (sha256) were already imported changes nothing and is
//   reported as skipped; with `force` the rows are read again and de-duplicated row by row
//   (still changing nothing for an identical file).
// * Bad rows are reported through on_error (file, line, field, reason) and counted as rejected;
//   good rows are imported. A fatal problem (not CSV, missing columns, I/O error) imports nothing
//   from that file and returns an error.
// Memory is bounded by a few chunks of chunk_rows (the file is streamed). Reading and writing
// run on two threads; callbacks are called on the calling thread.
//
// ImportFiles imports several files, each exactly as ImportFile would (one batch per file, in
// the given order), but reads ahead: while one file is written and committed, the reader thread
// already hashes, parses and projects the next ones (decision 0007). Only the calling thread
// uses the store. Whether a later file was already imported is asked of the store by the
// calling thread when the reader gets to it, and checked again when its turn comes, so a file
// listed twice is imported once and a file imported meanwhile by another process is skipped.
#pragma once

#include <functional>
#include <span>
#include <string>
#include <thread>

#include "core/common/error.hpp"
#include "core/ingest/reader.hpp"
#include "core/storage/event_store.hpp"

namespace crimecast::storage {

struct ImportOptions {
  ingest::ReaderOptions reader;
  bool force = false;             // re-read a file already imported byte-for-byte
  bool flag_out_of_area = true;   // run the per-batch out-of-area check
  std::size_t chunk_rows = 2048;  // rows per read/write step (bounds memory)
  std::function<void(const ingest::RowError&)> on_error;
  std::function<void(double fraction_done, std::int64_t rows_read)> on_progress;
};

struct ImportReport {
  BatchInfo batch;                  // counts (batch.id == 0 when skipped)
  bool skipped = false;             // identical file already imported
  std::int64_t previous_batch = 0;  // the batch that imported it, when skipped
};

// sha256 of a file's bytes as lowercase hex (OpenSSL).
Result<std::string> Sha256File(const std::string& path);

Result<ImportReport> ImportFile(EventStore& store, const std::string& path,
                                const ImportOptions& options);

// Starts creating, on a thread of its own, the projection the import will most likely need
// (WGS84 to ImportOptions::reader.store_epsg, or to the British National Grid for data.police.uk
// files): PROJ spends tens of milliseconds in its database creating one, which can then overlap
// with opening the store. It only fills the process's projection pool (spatial::LeaseProjection),
// so results are the same whether the guess is right or not. Join (or destroy) the returned
// thread before ImportFiles, so the reader finds the projection ready rather than creating a
// second one; a default thread when there is nothing to guess.
std::jthread WarmUpProjection(const ImportOptions& options);

// Called once per file, in order, on the calling thread, when the file's batch is committed and
// durable (it survives power loss), skipped, or failed (a failed file imports nothing; the next
// files are still imported). Batches are committed with Durability::kDeferred, so a file is
// reported a little after its commit, while the next one is being written; ImportFiles returns
// once every file is reported.
using FileDone = std::function<void(std::size_t index, const Result<ImportReport>& report)>;
void ImportFiles(EventStore& store, std::span<const std::string> paths,
                 const ImportOptions& options, const FileDone& on_file_done);

}  // namespace crimecast::storage
