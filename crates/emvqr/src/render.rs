//! Drawing a payload as a QR symbol: SVG through `qrcode`'s own renderer, PNG by painting the
//! module matrix into a grey-scale image for the `png` encoder.

use qrcode::{EcLevel, QrCode};

use crate::error::RenderError;
use crate::payload::Payload;

/// Pixels per module side. Eight keeps a version-10 symbol (what a typical payload needs) under
/// 500 pixels and easy to scan from a phone's screen or a print.
pub const MODULE_PIXELS: u32 = 8;
/// The light margin around the symbol, in modules: the four that ISO/IEC 18004 asks for.
pub const QUIET_ZONE_MODULES: u32 = 4;

impl Payload {
    /// The QR symbol (error correction M) as a standalone SVG document.
    ///
    /// # Errors
    /// [`RenderError::DoesNotFit`] if the payload is too long for a QR symbol (a valid payload
    /// never is).
    pub fn svg(&self) -> Result<String, RenderError> {
        let code = self.qr_code()?;
        // With `quiet_zone(true)` the renderer leaves the four modules of ISO/IEC 18004.
        Ok(code
            .render::<qrcode::render::svg::Color<'_>>()
            .quiet_zone(true)
            .module_dimensions(MODULE_PIXELS, MODULE_PIXELS)
            .dark_color(qrcode::render::svg::Color("#000000"))
            .light_color(qrcode::render::svg::Color("#ffffff"))
            .build())
    }

    /// The QR symbol (error correction M) as a grey-scale PNG image.
    ///
    /// # Errors
    /// [`RenderError::DoesNotFit`] as for [`Payload::svg`]; [`RenderError::Png`] if the encoder
    /// fails (it writes to memory, so it should not).
    pub fn png(&self) -> Result<Vec<u8>, RenderError> {
        let code = self.qr_code()?;
        let modules = code.width();
        let colors = code.to_colors();
        let quiet = QUIET_ZONE_MODULES as usize;
        let scale = MODULE_PIXELS as usize;
        let side_modules = modules + 2 * quiet;
        let side = side_modules * scale;
        let mut pixels = vec![u8::MAX; side * side];
        for (index, color) in colors.iter().enumerate() {
            if *color != qrcode::Color::Dark {
                continue;
            }
            let (row, column) = (index / modules + quiet, index % modules + quiet);
            for y in row * scale..(row + 1) * scale {
                let line = y * side;
                pixels[line + column * scale..line + (column + 1) * scale].fill(0);
            }
        }
        let side = u32::try_from(side).map_err(|_| RenderError::DoesNotFit)?;
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, side, side);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        let png_error = |error: png::EncodingError| RenderError::Png {
            reason: error.to_string(),
        };
        let mut writer = encoder.write_header().map_err(png_error)?;
        writer.write_image_data(&pixels).map_err(png_error)?;
        writer.finish().map_err(png_error)?;
        Ok(out)
    }

    fn qr_code(&self) -> Result<QrCode, RenderError> {
        QrCode::with_error_correction_level(self.encode().as_bytes(), EcLevel::M)
            .map_err(|_| RenderError::DoesNotFit)
    }
}
