/* version: prints the version of the weft library in use and checks that its ABI is the one
 * this program was compiled against; creates a node (without starting it) and prints its
 * peer id. Needs no network. Build: cc version.c -o version $(pkg-config --cflags --libs weft) */
#include <weft.h>

#include <stdio.h>

int main(void) {
  printf("weft %s (ABI %u), compiled against weft.h %d.%d.%d (ABI %d)\n", weft_version_string(),
         weft_abi_version(), WEFT_VERSION_MAJOR, WEFT_VERSION_MINOR, WEFT_VERSION_PATCH,
         WEFT_ABI_VERSION);
  if (weft_abi_version() != WEFT_ABI_VERSION) {
    fprintf(stderr, "version: the library's ABI differs from the header's\n");
    return 1;
  }

  weft_config config;
  weft_node node;
  char peer_id[128];
  int status = weft_config_new(&config);
  if (status == WEFT_OK) {
    status = weft_node_new(config, &node);
    weft_config_free(config);
  }
  if (status == WEFT_OK) {
    status = weft_node_peer_id(node, peer_id, sizeof peer_id, NULL);
    weft_node_close(node);
  }
  if (status != WEFT_OK) {
    fprintf(stderr, "version: %s (%s)\n", weft_strerror(status), weft_last_error());
    return 1;
  }
  printf("a new node's peer id: %s\n", peer_id);
  return 0;
}
