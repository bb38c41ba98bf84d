#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ceiba_fuzzing::audit_checkpoint(data));
