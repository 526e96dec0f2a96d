module tricolor-gc/benches/peers/go

go 1.23
