package server

// WriteTestCertificate is writeTestCertificate for the external tests.
var WriteTestCertificate = writeTestCertificate
