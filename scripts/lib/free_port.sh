# free_port tcp|udp prints a loopback port nothing listens on (tcp) or is
# bound to (udp), or fails after 50 tries. Sourced by the package tests.
free_port() {
  local p
  for _ in $(seq 50); do
    p=$((20000 + RANDOM % 40000))
    if [ "$1" = tcp ]; then ss -Htln "sport = :$p" | grep -q . || { echo $p; return; }
    else ss -Hluan "sport = :$p" | grep -q . || { echo $p; return; }; fi
  done
  return 1
}
