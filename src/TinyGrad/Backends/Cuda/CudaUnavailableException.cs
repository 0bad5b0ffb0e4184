namespace TinyGrad.Backends.Cuda;

/// <summary>
/// CUDA was asked for and cannot be used here: a native library is missing, there is no GPU, or the driver is
/// too old. The message is one line that says what was searched and where, so a command-line tool can print it
/// as is.
/// </summary>
public sealed class CudaUnavailableException : Exception
{
    /// <summary>Creates the exception with its one-line explanation.</summary>
    public CudaUnavailableException(string message) : base(message) { }

    /// <summary>Creates the exception with its one-line explanation and the failure underneath.</summary>
    public CudaUnavailableException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>A CUDA, cuBLAS or NVRTC call failed after the backend started (the message names the call and the error).</summary>
public sealed class CudaException : Exception
{
    /// <summary>Creates the exception.</summary>
    public CudaException(string message, int code) : base(message) => Code = code;

    /// <summary>The library's status code.</summary>
    public int Code { get; }
}
