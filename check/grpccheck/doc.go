// Package grpccheck checks endpoints with the standard gRPC health
// protocol (grpc.health.v1.Health/Check). It is a package of its own so
// that importing the failover package does not compile gRPC.
//
// A [Check] satisfies failover.Checker (and, with Watching set,
// failover.Watcher) without importing the failover package. An endpoint is
// healthy only when its server answers SERVING for the service asked
// about; every other outcome is an error that says why, for example:
//
//	grpc health 127.0.0.1:50051 service "api": NOT_SERVING
//	grpc health 127.0.0.1:50051 service "api": service unknown (NotFound)
//	grpc health 127.0.0.1:50051 service "": unavailable: connection refused
//	grpc health 127.0.0.1:50051 service "": context deadline exceeded after 300 ms
package grpccheck
