// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

// The proxy every upgradeable Tierchain contract is deployed behind: OpenZeppelin's ERC1967Proxy,
// unchanged. Importing it here puts it in the build, so the deployment (ledger/deploy.py) has its
// artifact and forge compiles the exact bytecode the Python side deploys.
import {ERC1967Proxy} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";
