/// Why an argument, a proof, a stored frontier or a checkpoint was refused.
///
/// Tampering found while replaying a whole log is a [`crate::TamperError`] instead, which names
/// the entry or checkpoint at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// Not 64 hexadecimal digits.
    #[error("el texto no es un hash: se esperan 64 cifras hexadecimales")]
    HashMalformed,
    /// A proof was asked of a tree larger than the leaves given.
    #[error("el tamaño de árbol {tree_size} supera las {leaves_count} hojas disponibles")]
    TreeSizeBeyondLeaves { tree_size: u64, leaves_count: u64 },
    /// The leaf index is not below the tree size.
    #[error("el índice {index} queda fuera de un árbol de tamaño {tree_size}")]
    IndexOutOfRange { index: u64, tree_size: u64 },
    /// A consistency proof between a larger old tree and a smaller new one.
    #[error("el tamaño anterior {old_size} es mayor que el nuevo tamaño {new_size}")]
    SizesOutOfOrder { old_size: u64, new_size: u64 },
    /// The inclusion proof does not lead to the root.
    #[error("la prueba de inclusión no es válida para esta hoja, índice, tamaño y raíz")]
    InclusionProofInvalid,
    /// The consistency proof does not lead to both roots.
    #[error("la prueba de consistencia no es válida para estos tamaños y raíces")]
    ConsistencyProofInvalid,
    /// Bytes that [`crate::Frontier::to_bytes`] did not write.
    #[error("la frontera guardada no es válida: {reason}")]
    FrontierMalformed { reason: &'static str },
    /// An origin that is empty, too long, or has whitespace or control characters.
    #[error("el origen del punto de control no es válido: {reason}")]
    OriginInvalid { reason: &'static str },
    /// A text that [`crate::SignedCheckpoint::to_text`] did not write.
    #[error("el punto de control firmado está mal formado: {reason}")]
    CheckpointMalformed { reason: &'static str },
    /// 32 bytes that are not an Ed25519 public key.
    #[error("la clave pública no es una clave Ed25519 válida")]
    PublicKeyInvalid,
    /// The signature does not verify: the checkpoint was changed or signed with another key.
    #[error("la firma del punto de control no es válida para esta clave pública")]
    SignatureInvalid,
}
