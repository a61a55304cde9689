# Prints a secret ($S) in every encoding the runner masks, each computed
# with the shell and coreutils, never by gantry.
set -eu
echo "raw: $S"
for p in "" a ab abc user:; do
  for q in "" z zz; do
    printf '%s' "$p$S$q" | base64 -w0; echo
    printf '%s' "$p$S$q" | base64 -w0 | tr '+/' '-_' | tr -d '='; echo
  done
done
urlenc() {
  printf '%s' "$1" | od -An -v -tx1 | tr -s ' \n' '\n\n' | while read -r h; do
    [ -z "$h" ] && continue
    case "$h" in
      2d|2e|5f|7e|3[0-9]|4[1-9a-f]|5[0-9a]|6[1-9a-f]|7[0-9a]) printf "\\x$h" ;;
      *) printf '%%%s' "$(echo "$h" | tr a-f A-F)" ;;
    esac
  done
}
echo "url: $(urlenc "$S")"
j=${S//\\/\\\\}; j=${j//\"/\\\"}
echo "json: {\"v\":\"$j\"}"
c=${S//%/%25}
echo "data: $c"
c=${c//:/%3A}; c=${c//,/%2C}
echo "property: $c"
echo "::warning file=$c::annotated"
e=${S//\'/\'\'}
echo "expression: '$e'"
