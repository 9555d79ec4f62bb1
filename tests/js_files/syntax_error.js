function ok() { return 1 }

function broken(a {
  return a
}
