#pragma once
// Identities. An entity is anything that owns RNG streams, energy and trace
// events: a client, the server, a link. An actor is one coroutine running on
// behalf of an entity (an entity may run several, and a crashed entity's
// actors are restarted as new incarnations under the same ActorId).
#include <compare>
#include <cstdint>
#include <functional>

namespace sflsim::core {

struct EntityId {
  std::uint64_t value = 0;
  friend constexpr auto operator<=>(EntityId, EntityId) = default;
};

struct ActorId {
  std::uint32_t value = 0;
  friend constexpr auto operator<=>(ActorId, ActorId) = default;
};

// "No actor": a kernel operation started from outside any actor (test code
// driving the loop directly).
inline constexpr ActorId kNoActor{0xFFFFFFFFu};

}  // namespace sflsim::core

template <>
struct std::hash<sflsim::core::EntityId> {
  std::size_t operator()(sflsim::core::EntityId id) const noexcept {
    return std::hash<std::uint64_t>{}(id.value);
  }
};
