//! Writes the seed corpus of the fuzz targets (`server::fuzzing::seeds`) into a folder,
//! one subfolder per target: `cargo xtask fuzz-seeds` refreshes `fuzz/corpus-seed`.

use std::path::PathBuf;

fn main() -> std::io::Result<()> {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "fuzz/corpus-seed".into()),
    );
    for (target, name, bytes) in server::fuzzing::seeds() {
        let sub = dir.join(target);
        std::fs::create_dir_all(&sub)?;
        std::fs::write(sub.join(&name), &bytes)?;
        println!("{target}/{name}: {} bytes", bytes.len());
    }
    Ok(())
}
