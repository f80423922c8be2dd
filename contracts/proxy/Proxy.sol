// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC1967Proxy} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";

/// @title ProxyArtifact
/// @notice Never deployed. It names OpenZeppelin's ERC1967Proxy, unchanged, so that the build (forge and
///         ledger/compile.py) emits the artifact of the proxy every upgradeable Tierchain contract is
///         deployed behind: `ERC1967Proxy(implementation, abi.encodeCall(initialize, (...)))`.
/// @dev A file with an import and no contract leaves forge without its AST (a warning on every build).
abstract contract ProxyArtifact {}
