// Package grpccheck checks endpoints with the standard gRPC health
// protocol (grpc.health.v1.Health/Check). It is a package of its own so
// that importing the failover package does not compile gRPC.
package grpccheck
