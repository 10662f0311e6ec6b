// Test fixture for Seawall's rustbinary cataloger: a program that carries
// cargo-auditable audit data the way cargo-auditable links it in, as a
// retained ".dep-v0" section holding zlib-compressed JSON. See README.md.
const LEN: usize = include_bytes!("dep-v0.zlib").len();

#[used]
#[no_mangle]
#[link_section = ".dep-v0"]
static AUDITABLE_VERSION_INFO: [u8; LEN] = *include_bytes!("dep-v0.zlib");

fn main() {
    let name = std::env::args().nth(1).unwrap_or_else(|| "world".to_string());
    println!("Hello, {}!", name);
}
