//! The article's file as indexed ([`super::Fields::source`]), stored zstd-compressed with
//! the article's body text as its prefix.
//!
//! Only [`super::SearchIndex::stored_source`] (the last good version of a broken article)
//! reads it. The doc store is uncompressed since format 24 and read in place
//! ([`super::store`]), so results never touch it; but it takes room on disk beside every
//! document. With the body text as zstd's prefix, the prose of the file is found in the text
//! and it takes a few kilobytes (6.5 MB on k8s against 15 MB compressed on its own).

/// zstd's level for the file: its default, fast to compress during a build.
const LEVEL: i32 = 3;

/// `source` compressed with `body_text` as the prefix ([`unpack`] needs the same text).
pub fn pack(source: &[u8], body_text: &[u8]) -> std::io::Result<Vec<u8>> {
    use zstd::zstd_safe::{CCtx, CParameter};
    let err = |code| std::io::Error::other(zstd::zstd_safe::get_error_name(code));
    let mut cctx = CCtx::create();
    cctx.set_parameter(CParameter::CompressionLevel(LEVEL))
        .map_err(err)?;
    cctx.ref_prefix(body_text).map_err(err)?;
    let mut out = Vec::with_capacity(zstd::zstd_safe::compress_bound(source.len()));
    cctx.compress2(&mut out, source).map_err(err)?;
    Ok(out)
}

/// The file [`pack`] compressed with the same `body_text`; `None` when `packed` is not
/// such a file.
pub fn unpack(packed: &[u8], body_text: &[u8]) -> Option<Vec<u8>> {
    use zstd::zstd_safe::DCtx;
    let size = zstd::zstd_safe::get_frame_content_size(packed).ok()??;
    // The size is read from the frame's header: a damaged file may claim any size, and a
    // failed allocation must be a damaged file, not an abort.
    let mut out = Vec::new();
    out.try_reserve_exact(usize::try_from(size).ok()?).ok()?;
    let mut dctx = DCtx::create();
    dctx.ref_prefix(body_text).ok()?;
    dctx.decompress(&mut out, packed).ok()?;
    (out.len() as u64 == size).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_comes_back_as_it_was_and_needs_its_text() {
        let text = "Pods are the smallest deployable units of computing. ".repeat(40);
        let source =
            format!("---\ntitle: Pods\n---\n\n# Pods\n\n{text}\n\n```yaml\nkind: Pod\n```\n");
        let packed = pack(source.as_bytes(), text.as_bytes()).unwrap();
        assert!(packed.len() < source.len() / 4, "{} bytes", packed.len());
        assert_eq!(
            unpack(&packed, text.as_bytes()).as_deref(),
            Some(source.as_bytes())
        );
        // An empty file, and a file with no text.
        for (source, text) in [("", "some text"), ("# only a title\n", "")] {
            let packed = pack(source.as_bytes(), text.as_bytes()).unwrap();
            assert_eq!(
                unpack(&packed, text.as_bytes()).as_deref(),
                Some(source.as_bytes())
            );
        }
        assert_eq!(unpack(b"not zstd", b""), None);
        // A frame whose header claims 2^62 bytes: the damage is reported, memory not asked for.
        let mut huge = vec![0x28, 0xB5, 0x2F, 0xFD, 0xE0];
        huge.extend_from_slice(&(1u64 << 62).to_le_bytes());
        huge.extend_from_slice(&[1, 0, 0]);
        assert_eq!(
            zstd::zstd_safe::get_frame_content_size(&huge).ok(),
            Some(Some(1 << 62))
        );
        assert_eq!(unpack(&huge, b""), None);
    }
}
